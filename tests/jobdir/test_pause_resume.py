"""Pause, resume and crash safety with job directories, through real ``scrapy crawl`` processes.

Each test ends by comparing the store with the emulator's ground truth: every item and edge once,
nothing missing, nothing extra. Each runs over both API versions (v2's walks keep their
``pagination_token`` in the job directory); over v2 the kill -9 and interrupt tests run only
their most telling variants (see there)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.apiversion import BOTH, V1, V2, ApiVersion
from tests.support.crawl import run_crawl
from tests.support.process import CrawlProcess, jobdir_files
from tests.support.servers import ServerProcess
from tests.support.store import sqlite_items, truth_items

BASE = ["--handle", "alice", "--protected-followings", "1", "--suspended-followings", "1",
        "--seed", "11"]


def emulator(*world: str) -> ServerProcess:
    return ServerProcess("twitter_emulator", *BASE, *world).start()


@pytest.fixture
def servers() -> Iterator[list[ServerProcess]]:
    started: list[ServerProcess] = []
    yield started
    for server in started:
        server.stop()


def requests_log(server: ServerProcess) -> list[dict[str, Any]]:
    return server.get_json("/_emulator/log")["requests"]


def count(server: ServerProcess, endpoint: str) -> int:
    return sum(1 for r in requests_log(server) if r["endpoint"] == endpoint)


def assert_store_equals_truth(server: ServerProcess, store: Path, api: ApiVersion) -> None:
    want = truth_items(server.get_json(f"/_emulator/truth?handle=alice&api={api.version}")["items"])
    got = sqlite_items(store)
    assert sorted(set(want) - set(got))[:5] == [], "missing from the store"
    assert sorted(set(got) - set(want))[:5] == [], "in the store but not in the world"
    for key, props in want.items():
        # The truth says isMe false of the other accounts; the crawl leaves it out (None never
        # erases the isMe of an account another import made).
        assert got[key] == {k: v for k, v in props.items() if k != "isMe" or v}, key


def assert_no_request_twice(server: ServerProcess) -> None:
    """No page was fetched twice (a 429 answered and then retried is not a fetch). The path
    is part of the page: v2 names the user there. The profile is fetched by every run, and so
    is v2's /2/users/me (whose token it is: Owned Reads, for the cost meter)."""
    seen = Counter(
        (r["method"], r["path"], tuple(sorted(r["query"].items())))
        for r in requests_log(server)
        if r["endpoint"] not in (V1.profile, V2.profile, "users/me") and r["status"] == 200
    )
    assert [k for k, n in seen.items() if n > 1] == []


def settings_for(tmp_path: Path, *, jobdir: bool = True, **extra: str) -> dict[str, str]:
    out = {"POD_URL": f"sqlite:///{tmp_path / 'pod.sqlite3'}", **extra}
    if jobdir:
        out["JOBDIR"] = str(tmp_path / "job")
    return out


#: Followers, and the followers endpoint's quota, so that a page of followers parks.
PARKING = {
    # 3,200 followers = 16 followers/list pages against a quota of 15: the 16th parks.
    "1.1": ["--followers", "3200"],
    # 1,500 followers = 2 pages of 1,000 against a quota of 1: the 2nd parks.
    "2": ["--followers", "1500", "--quota", "users/followers=1"],
}


@pytest.mark.parametrize("api", BOTH)
def test_ctrl_c_while_parked_exits_fast_and_resumes(
    servers: list[ServerProcess], tmp_path: Path, api: ApiVersion
) -> None:
    server = emulator(*PARKING[api.version], "--followings", "6", "--tweets", "30",
                      "--following-tweets", "5", "--window", "8")
    servers.append(server)
    settings = settings_for(tmp_path, TWITTER_CONTACTS_STRATEGY="list", **api.settings)
    first = CrawlProcess(server.url, "alice", settings=settings)
    try:
        first.wait_for(lambda: f"{api.followers}: rate limit reached" in first.log)
        elapsed = first.interrupt()
    finally:
        first.close()
    assert elapsed < 5, f"Ctrl-C took {elapsed:.1f}s"
    assert "'finish_reason': 'shutdown'" in first.log
    assert "'twitter/ratelimit/handed_back': 1" in first.log
    # Every request could be written to the job directory: none was kept only in memory.
    assert "scheduler/enqueued/disk" in first.log
    assert "scheduler/unserializable" not in first.log
    # The parked request went back to the disk queue.
    queued = [p for p in jobdir_files(tmp_path / "job" / "requests.queue") if p.parent.name != "requests.queue"]
    assert queued and all(p.stat().st_size > 0 for p in queued)

    second = run_crawl(server.url, "alice", settings=settings)
    assert second.returncode == 0, second.stderr[-3000:]
    assert "Resuming crawl" in second.stderr
    assert "did not end cleanly" not in second.stderr
    assert_store_equals_truth(server, tmp_path / "pod.sqlite3", api)
    assert_no_request_twice(server)


@pytest.mark.parametrize(
    ("walk", "api"),
    [pytest.param("contacts-paging", V1, id="contacts-paging-v1.1"),
     pytest.param("timeline-walk", V1, id="timeline-walk-v1.1"),
     # No contacts-paging over v2: a v2 followers page that resumes from the job directory with
     # its pagination_token is what test_ctrl_c_while_parked_exits_fast_and_resumes[v2] shows.
     pytest.param("timeline-walk", V2, id="timeline-walk-v2")],
)
def test_interrupt_resume_twice(
    servers: list[ServerProcess], tmp_path: Path, walk: str, api: ApiVersion
) -> None:
    # Walks as many pages long over either version (8 of followers, 12 of the own timeline),
    # interrupted after the pages of ``pages``.
    if walk == "contacts-paging":
        endpoint, pages = api.followers, (2, 5)
        world = ["--followers", str(8 * api.contacts_page), "--followings", "4", "--tweets", "20"]
    else:
        endpoint, pages = api.timeline, (3, 7)
        world = ["--followers", "20", "--followings", "2", "--tweets", str(12 * api.timeline_page)]
    # Slow answers, so each Ctrl-C lands in the middle of the walk.
    server = emulator(*world, "--following-tweets", "5", "--latency", "0.3")
    servers.append(server)
    settings = settings_for(tmp_path, TWITTER_CONTACTS_STRATEGY="list", **api.settings)
    for after in pages:
        run = CrawlProcess(server.url, "alice", settings=settings)
        try:
            run.wait_for(lambda after=after: count(server, endpoint) >= after)
            run.interrupt()
        finally:
            run.close()
        assert "'finish_reason': 'shutdown'" in run.log
    last = run_crawl(server.url, "alice", settings=settings)
    assert last.returncode == 0, last.stderr[-3000:]
    assert "Resuming crawl" in last.stderr
    assert_store_equals_truth(server, tmp_path / "pod.sqlite3", api)
    # A resumed crawl does not redo finished work.
    assert_no_request_twice(server)


@pytest.mark.parametrize("jobdir", [True, False], ids=["jobdir", "no-jobdir"])
@pytest.mark.parametrize(
    ("api", "after"),
    [pytest.param(V1, 3, id="v1.1-3"), pytest.param(V1, 12, id="v1.1-12"),
     pytest.param(V1, 30, id="v1.1-30"),
     # Over v2, only a kill in the thick of the crawl (profile, contacts and several timelines
     # under way): how early the kill lands is about the job directory and the store, which the
     # v1.1 runs cover; what is v2's own (its positions in a killed job's queue) is met here.
     pytest.param(V2, 12, id="v2-12")],
)
def test_kill_9_then_rerun_completes(
    servers: list[ServerProcess], tmp_path: Path, jobdir: bool, api: ApiVersion, after: int
) -> None:
    server = emulator("--followers", "900", "--followings", "25", "--tweets", "900",
                      "--following-tweets", "8", "--latency", "0.05")
    servers.append(server)
    settings = settings_for(tmp_path, jobdir=jobdir, TWITTER_CONTACTS_STRATEGY="list", **api.settings)
    run = CrawlProcess(server.url, "alice", settings=settings)
    try:
        run.wait_for(lambda: len(requests_log(server)) >= after)
        run.kill()
    finally:
        run.close()
    rerun = run_crawl(server.url, "alice", settings=settings)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    if jobdir:
        assert "did not end cleanly" in rerun.stderr
    assert_store_equals_truth(server, tmp_path / "pod.sqlite3", api)
