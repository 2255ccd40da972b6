"""The password of ``TWITTER_RATELIMIT_REDIS_URL``, and the token whose budgets Redis keeps,
never appear in logs (at DEBUG), stats, exports, the JOBDIR, nor in Redis's keys or values; nor
when Redis is unreachable, nor when the URL is a bad setting."""

from __future__ import annotations

from pathlib import Path

from tests.secrets.test_no_secret_leaks import found_in
from tests.support.apiversion import V2
from tests.support.crawl import run_crawl
from tests.support.process import jobdir_files
from tests.support.servers import RedisServer, ServerProcess
from twitter_emulator.credentials import ACCESS_TOKEN, CONSUMER_KEY

PASSWORD = "Rd-Leak-Check-Pa55word-4417"
WORLD = ("--followers", "30", "--followings", "4", "--tweets", "30", "--following-tweets", "3",
         "--window", "3", "--quota", f"{V2.timeline}=3")


def test_redis_password_and_token_stay_out_of_sight(tmp_path: Path) -> None:
    with RedisServer(tmp_path / "redis", password=PASSWORD) as redis, redis.client() as client, \
            ServerProcess("twitter_emulator", *WORLD) as emulator:
        out, jobdir = tmp_path / "items.jsonl", tmp_path / "job"
        result = run_crawl(emulator.url, "alice", "-O", str(out),
                           settings={"POD_URL": f"sqlite:///{tmp_path / 'pod.sqlite3'}",
                                     "JOBDIR": str(jobdir), "LOG_LEVEL": "DEBUG", **V2.settings,
                                     "TWITTER_COST_LEDGER_DIR": str(tmp_path / "ledger"),
                                     "TWITTER_RATELIMIT_MARGIN": "0.3"},
                           env={"TWITTER_RATELIMIT_REDIS_URL": redis.url})
        keys = client.keys("*")
        values = [str(client.hgetall(k)) for k in keys]
    assert result.returncode == 0, result.stderr[-3000:]
    assert "twitter/ratelimit/parked" in result.stderr  # the budgets were used: parked in Redis
    assert keys, "nothing in Redis: the crawl did not use it"
    texts = {"stderr": result.stderr, "stdout": result.stdout, "export": out.read_text(),
             "redis keys": "\n".join(keys), "redis values": "\n".join(values)}
    for f in jobdir_files(jobdir):
        texts[str(f)] = f.read_bytes().decode("latin-1")
    for where, text in texts.items():
        assert not found_in(text, PASSWORD), f"the Redis password is in {where}"
    for where in ("redis keys", "redis values"):
        assert not found_in(texts[where], ACCESS_TOKEN), f"the access token is in {where}"
        assert not found_in(texts[where], CONSUMER_KEY), f"the consumer key is in {where}"


def test_unreachable_redis_and_bad_url_do_not_show_the_password(tmp_path: Path) -> None:
    redis = RedisServer(tmp_path / "redis", password=PASSWORD).start()
    redis.kill()
    with ServerProcess("twitter_emulator", "--followers", "5", "--followings", "2") as emulator:
        down = run_crawl(emulator.url, "alice", settings={
            "POD_URL": f"sqlite:///{tmp_path / 'a.sqlite3'}", "LOG_LEVEL": "DEBUG",
            "TWITTER_RATELIMIT_REDIS_URL": redis.url}, timeout=120)
        bad = run_crawl(emulator.url, "alice", settings={
            "POD_URL": f"sqlite:///{tmp_path / 'b.sqlite3'}",
            "TWITTER_RATELIMIT_REDIS_URL": f"redis://:{PASSWORD}@127.0.0.1:port/0"}, timeout=120)
    assert down.returncode == 1 and "twitter_redis_unreachable" in down.stderr, down.stderr[-3000:]
    assert bad.returncode == 2, bad.stderr[-3000:]
    assert bad.stderr.startswith("twitter: bad setting: TWITTER_RATELIMIT_REDIS_URL (value not shown")
    for result in (down, bad):
        assert not found_in(result.stderr + result.stdout, PASSWORD)
