"""``scrapy queue`` as a user meets it: what it needs said in one line (exit 2), a Redis that is
not there named without its password, handles checked before anything is queued, and a job that
holds no setting and no secret."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

from redis import Redis
from rq import Queue

from tests.support.crawl import crawl_env
from tests.support.servers import ROOT, RedisServer

SECRET = "s3cret-Queue-Pa55"


def scrapy_queue(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "scrapy", "queue", *args], cwd=ROOT,  # noqa: S603
                          env={**crawl_env(), **(env or {})}, capture_output=True, text=True,
                          timeout=60, check=False)


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_without_a_redis_url_one_line_exit_2() -> None:
    result = scrapy_queue("status")
    assert result.returncode == 2
    assert result.stderr.strip().startswith("scrapy queue: TWITTER_QUEUE_REDIS_URL is not set")
    assert len(result.stderr.strip().splitlines()) == 1


def test_an_unreachable_redis_is_named_without_its_password() -> None:
    url = f"redis://:{SECRET}@127.0.0.1:{closed_port()}/0"
    result = scrapy_queue("status", env={"TWITTER_QUEUE_REDIS_URL": url})
    assert result.returncode == 2
    line = result.stderr.strip()
    assert len(line.splitlines()) == 1, line
    assert line.startswith("scrapy queue: Redis at redis://:***@127.0.0.1:"), line
    assert "check TWITTER_QUEUE_REDIS_URL" in line
    assert SECRET not in result.stderr + result.stdout


def test_bad_handles_queue_nothing(redis_server: RedisServer, tmp_path: Path) -> None:
    url = redis_server.url[:-1] + "2"
    listed = tmp_path / "handles.txt"
    listed.write_text("alice\nnot a handle\n", encoding="utf-8")
    result = scrapy_queue("add", str(listed), "-s", "TWITTER_QUEUE_NAME=bad",
                          env={"TWITTER_QUEUE_REDIS_URL": url})
    assert result.returncode == 2
    assert result.stderr.strip() == (f"scrapy queue: bad argument: handles_file={str(listed)!r}, "
                                     "line 2: 'not a handle' is not a Twitter handle (1 to 15 "
                                     "letters, digits or _)")
    assert Queue("bad", connection=Redis.from_url(url)).count == 0


def test_a_job_holds_the_handle_and_arguments_only(redis_server: RedisServer) -> None:
    url = redis_server.url[:-1] + "2"
    result = scrapy_queue("add", "--handles", "alice,@Bob,ALICE", "-a", "following_tweets=3",
                          "-s", "TWITTER_QUEUE_NAME=plain",
                          env={"TWITTER_QUEUE_REDIS_URL": url, "TWITTER_BEARER_TOKEN": SECRET})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "queued 2 of 2 handles on 'plain'"
    redis = Redis.from_url(url)
    queue = Queue("plain", connection=redis)
    jobs = [queue.fetch_job(i) for i in queue.get_job_ids()]
    assert [(j.args, j.kwargs) for j in jobs if j] == [
        (("alice", {"following_tweets": "3"}), {}), (("Bob", {"following_tweets": "3"}), {})]
    # Nothing of the environment in Redis: no secret, no setting.
    for key in redis.scan_iter("*"):
        kind = redis.type(key)
        values = [redis.get(key)] if kind == b"string" else list(redis.hgetall(key).values()) \
            if kind == b"hash" else []
        for value in values:
            assert SECRET.encode() not in (value or b"")
