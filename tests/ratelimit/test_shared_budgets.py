"""Crawls that share one token share its budgets (issue 18): real ``scrapy crawl`` processes
against the emulator with tight quotas, and a real redis-server (``TWITTER_RATELIMIT_REDIS_URL``).

* three processes on one token: no 429 at all, each import complete; the same three without
  Redis (each with its own picture of the windows) do meet 429s, which is what makes the first
  result mean something;
* two crawlers in one process (``CrawlerProcess``) share the budget without Redis;
* Redis unreachable before the start: the close reason ``twitter_redis_unreachable``, one ERROR
  line, exit 1, no request sent;
* a crawl killed (SIGKILL) while its probe holds the lease of an unknown window: the others wait
  for the lease to expire (not for ever), then complete, without a 429; afterwards every key
  expires and Redis is empty.

Proof comes from the emulator's request log, the stores and the crawls' logs.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.apicheck import (
    assert_store_equals_truth,
    error_lines,
    requests_log,
    stats,
    truth,
)
from tests.support.apiversion import BOTH, V2, ApiVersion
from tests.support.crawl import crawl_env, run_crawl
from tests.support.process import CrawlProcess
from tests.support.servers import ROOT, RedisServer, ServerProcess


def world(api: ApiVersion, quota: int = 6) -> tuple[str, ...]:
    """A world whose followings' timelines need several 3-second windows of ``quota`` timeline
    requests when three crawls import it on one token (each needs about 14)."""
    return ("--followers", "30", "--followings", "12", "--tweets", "300", "--following-tweets", "5",
            "--protected-followings", "1", "--suspended-followings", "1", "--seed", "21",
            "--window", "3", "--quota", f"{api.timeline}={quota}")


def crawl_settings(tmp_path: Path, name: str, api: ApiVersion = V2, **extra: str) -> dict[str, str]:
    return {"POD_URL": f"sqlite:///{tmp_path / name}.sqlite3", "TWITTER_RATELIMIT_MARGIN": "0.3",
            "TWITTER_CONTACTS_STRATEGY": "list", "TWITTER_COST_LEDGER_DIR": str(tmp_path / f"{name}.ledger"),
            **api.settings, **extra}


def run_three(tmp_path: Path, emulator: ServerProcess, api: ApiVersion, **extra: str) -> list[tuple[int, str]]:
    crawls = [CrawlProcess(emulator.url, "alice", settings=crawl_settings(tmp_path, f"crawl{i}", api, **extra))
              for i in range(3)]
    try:
        return [(c.wait(240), c.log) for c in crawls]
    finally:
        for c in crawls:
            c.close()


@pytest.mark.parametrize("api", BOTH)
def test_three_processes_on_one_token_meet_no_429_and_all_complete(
    tmp_path: Path, redis_server: RedisServer, api: ApiVersion
) -> None:
    with ServerProcess("twitter_emulator", *world(api)) as emulator:
        results = run_three(tmp_path, emulator, api, TWITTER_RATELIMIT_REDIS_URL=redis_server.url)
        log = requests_log(emulator)
        want = truth(emulator, api=api.version)
    for code, text in results:
        assert code == 0, text[-3000:]
        assert stats(text)["finish_reason"] == "finished"
        assert "twitter/ratelimit/429" not in stats(text)
    assert [e for e in log if e["status"] == 429] == []
    for i in range(3):
        assert_store_equals_truth(tmp_path / f"crawl{i}.sqlite3", want)
    # the quotas did bind: the three needed several windows, and requests waited for them
    timelines = [e for e in log if e["endpoint"] == api.timeline]
    assert len(timelines) > 3 * 6
    assert sum(stats(text).get("twitter/ratelimit/parked", 0) for _, text in results) > 0
    # every window served at most its quota: never more than 6 timeline requests in 3 seconds
    times = sorted(e["time"] for e in timelines)
    assert all(b - a >= 2.9 for a, b in zip(times, times[6:], strict=False)), times
    # the password of the Redis URL is nowhere in their logs
    assert all(redis_server.password not in text for _, text in results)


def test_without_shared_budgets_three_processes_do_meet_429s(tmp_path: Path) -> None:
    """The same three crawls, each with its budgets in its own process: what the test above
    rules out happens (so its 0 × 429 is the shared budget's doing, not a lenient world)."""
    with ServerProcess("twitter_emulator", *world(V2)) as emulator:
        results = run_three(tmp_path, emulator, V2)
        log = requests_log(emulator)
    assert [e for e in log if e["status"] == 429], "no 429: the world does not make crawls compete"
    assert all(code == 0 for code, _ in results)


#: Two crawls in one process (``CrawlerProcess``), each into its own store, as a program that
#: imports several accounts at once runs them.
TWO_CRAWLS = """
import sys, warnings
from scrapy.exceptions import ScrapyDeprecationWarning
warnings.simplefilter('error', DeprecationWarning)
warnings.simplefilter('error', ScrapyDeprecationWarning)
from scrapy import signals
from scrapy.crawler import Crawler, CrawlerProcess
from scrapy.utils.project import get_project_settings
from scrapy.utils.reactor import install_reactor

api, *stores = sys.argv[1:]
settings = get_project_settings()
settings.set("TWITTER_API_URL", api, priority="cmdline")
settings.set("TWITTER_RATELIMIT_MARGIN", 0.3, priority="cmdline")
settings.set("TWITTER_CONTACTS_STRATEGY", "list", priority="cmdline")
settings.set("TWITTER_API_VERSION", "2", priority="cmdline")
process = CrawlerProcess(settings)
# Crawlers made here, with settings of their own, are applied before start() would install it.
install_reactor(settings["TWISTED_REACTOR"])
reasons = []
for store in stores:
    own = settings.copy()
    own.set("POD_URL", f"sqlite:///{store}", priority="cmdline")
    own.set("TWITTER_COST_LEDGER_DIR", f"{store}.ledger", priority="cmdline")
    crawler = Crawler(process.spider_loader.load("twitter"), own)
    crawler.signals.connect(lambda reason, **_: reasons.append(reason), signal=signals.spider_closed, weak=False)
    process.crawl(crawler, handle="alice")
process.start()
print("reasons:", " ".join(reasons))
sys.exit(0 if reasons == ["finished"] * len(stores) else 1)
"""


def test_two_crawlers_in_one_process_share_the_budget(tmp_path: Path) -> None:
    stores = [tmp_path / "one.sqlite3", tmp_path / "two.sqlite3"]
    # 2 crawls: a quota as tight for two as 6 is for three
    with ServerProcess("twitter_emulator", *world(V2, quota=4)) as emulator:
        proc = subprocess.run(  # noqa: S603 (our own command line)
            [sys.executable, "-c", TWO_CRAWLS, emulator.url, *map(str, stores)],
            capture_output=True, text=True, cwd=ROOT, env=crawl_env(), timeout=240, check=False)
        log = requests_log(emulator)
        want = truth(emulator, api="2")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "reasons: finished finished" in proc.stdout
    assert [e for e in log if e["status"] == 429] == []
    for store in stores:
        assert_store_equals_truth(store, want)
    timelines = sorted(e["time"] for e in log if e["endpoint"] == V2.timeline)
    assert len(timelines) > 2 * 4  # the quota did bind
    assert all(b - a >= 2.9 for a, b in zip(timelines, timelines[4:], strict=False)), timelines


def test_unreachable_redis_is_a_named_close_reason(tmp_path: Path) -> None:
    redis = RedisServer(tmp_path / "redis").start()
    url = redis.url
    redis.kill()  # killed before the crawl starts
    with ServerProcess("twitter_emulator", "--followers", "5", "--followings", "2", "--tweets", "5") as emulator:
        result = run_crawl(emulator.url, "alice",
                           settings=crawl_settings(tmp_path, "down", TWITTER_RATELIMIT_REDIS_URL=url),
                           timeout=120)
        log = requests_log(emulator)
    assert result.returncode == 1, result.stderr[-3000:]
    dump = stats(result.stderr)
    assert dump["finish_reason"] == "twitter_redis_unreachable"
    assert dump["twitter/ratelimit/redis_unreachable"] == 1
    errors = error_lines(result.stderr)
    assert len(errors) == 1, errors
    assert "TWITTER_RATELIMIT_REDIS_URL" in errors[0] and f"redis://127.0.0.1:{redis.port}/0" in errors[0]
    assert redis.password not in result.stderr
    assert [e for e in log if e.get("endpoint")] == []  # nothing was sent without the budgets


def test_a_killed_crawl_cannot_keep_the_probe_lease(tmp_path: Path) -> None:
    """Every answer takes 2 s, so the first crawl is surely killed (SIGKILL) while its probe of
    the profile request is out, holding the lease. Two crawls started then wait for the lease (4 s) to
    expire, not longer, and complete without a 429; then every key expires."""
    lease = 4.0
    world = ("--followers", "5", "--followings", "3", "--tweets", "20", "--following-tweets", "3",
             "--protected-followings", "0", "--suspended-followings", "0", "--seed", "4",
             "--window", "4", "--latency", "2")
    with RedisServer(tmp_path / "redis") as redis, redis.client() as client, \
            ServerProcess("twitter_emulator", *world) as emulator:
        extra = {"TWITTER_RATELIMIT_REDIS_URL": redis.url, "TWITTER_RATELIMIT_PROBE_LEASE": str(lease)}
        first = CrawlProcess(emulator.url, "alice", settings=crawl_settings(tmp_path, "killed", **extra))
        try:
            deadline = time.monotonic() + 60
            held: dict[str, str] = {}
            while not held and time.monotonic() < deadline:
                for key in client.keys("twitter_crawler:budget:*"):
                    fields = client.hgetall(key)
                    if "probe" in fields:
                        held = {"key": key, **fields}
                time.sleep(0.02)
            assert held, first.log[-3000:]
            first.kill()
        finally:
            first.close()
        assert held["key"].endswith(f":{V2.profile}")
        lease_end = int(held["probe_until"]) / 1000
        others = [CrawlProcess(emulator.url, "alice", settings=crawl_settings(tmp_path, f"after{i}", **extra))
                  for i in range(2)]
        try:
            results = [(c.wait(120), c.log) for c in others]
        finally:
            for c in others:
                c.close()
        log = requests_log(emulator)
        want = truth(emulator, api="2")
        # nothing is left behind: each key expires with the window or lease it records
        keys = client.keys("*")
        assert keys and all(0 < client.pttl(k) <= (4 + 0.3 + 1) * 1000 for k in keys), \
            {k: client.pttl(k) for k in keys}
        deadline = time.monotonic() + 10
        while client.dbsize() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert client.dbsize() == 0, client.keys("*")
    for code, text in results:
        assert code == 0, text[-3000:]
    assert [e for e in log if e["status"] == 429] == []
    shows = [e for e in log if e["endpoint"] == V2.profile]
    # the killed crawl's probe, then the others' only once its lease was over
    assert shows[0]["time"] < lease_end - lease + 0.5
    assert all(e["time"] >= lease_end - 0.05 for e in shows[1:]), (lease_end, [e["time"] for e in shows])
    assert shows[1]["time"] < lease_end + 2, "the others waited longer than the lease"
    for i in range(2):
        assert_store_equals_truth(tmp_path / f"after{i}.sqlite3", want)
