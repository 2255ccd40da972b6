"""Answers that mean "stop", not "wait" (X_API_2026.md §4), met by real ``scrapy crawl``
processes against the emulator: a usage cap spent in the middle of a v2 import (into SQLite and
into the Pod, with and without JOBDIR) closes the crawl within seconds with its named reason, one
ERROR line and a non-zero exit, after at most the requests already in flight; what was imported
stays, and once the cap is lifted the same command completes the import. Any other 4xx problem
that waiting cannot cure (credits exhausted, an unknown problem type) closes it the same way
under its own reason."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.incremental.support import (
    PodTarget,
    SQLiteTarget,
    StoreTarget,
    assert_equals_truth,
    crawl,
    error_lines,
    finish_reason,
    me_id,
    truth,
)
from tests.support.apicheck import requests_log, signed_get_path, stats
from tests.support.apiversion import V2
from tests.support.servers import ServerProcess

CAPPED_TYPE = "https://api.twitter.com/2/problems/usage-capped"
#: 500 own posts (5 pages of 100, one after the other) and 2 followed accounts with 2 each: a cap
#: of 350 is crossed by the 4th own page, well after the followed accounts' single pages.
WORLD = ("--followers", "5", "--followings", "3", "--tweets", "500", "--following-tweets", "2",
         "--protected-followings", "1", "--suspended-followings", "1", "--seed", "3")
#: "Within seconds, not forever": the unfixed crawl retried a cap for minutes.
TIMEOUT = 60


@pytest.fixture(params=["sqlite", "pod"])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> StoreTarget:
    if request.param == "sqlite":
        return SQLiteTarget(tmp_path / "pod.sqlite3")
    return PodTarget(request.getfixturevalue("pod_server"))


def capped(log: list[dict[str, Any]]) -> list[int]:
    """Positions of the usage-capped answers in the emulator's request log."""
    return [i for i, e in enumerate(log) if e["status"] == 429 and e["problem"] == CAPPED_TYPE]


@pytest.mark.parametrize("jobdir", [False, True], ids=["rerun", "jobdir-resume"])
def test_usage_cap_mid_crawl_stops_with_reason_then_rerun_completes(
    target: StoreTarget, jobdir: bool, tmp_path: Path, start_emulator: Any
) -> None:
    emulator: ServerProcess = start_emulator(*WORLD, "--usage-cap", "350")
    settings = {**V2.settings, **({"JOBDIR": str(tmp_path / "job")} if jobdir else {})}

    first = crawl(emulator.url, target, settings=settings, timeout=TIMEOUT, log=tmp_path / "first.log")

    assert first.returncode == 1, first.log[-3000:]
    assert finish_reason(first.log) == "twitter_usage_capped"
    assert "Spider closed (twitter_usage_capped)" in first.log
    [line] = error_lines(first.log)
    assert stats(first.log)["log_count/ERROR"] == 1
    for words in ("Monthly usage cap", "scope Product", "HTTP 429", "UsageCapExceeded",
                  "Usage cap exceeded: Monthly product cap", "wait for the cap's reset",
                  "add credits / raise the cap in the developer console"):
        assert words in line, line
    log = requests_log(emulator)
    refused = capped(log)
    # the cap's answer, then at most the requests that were already in flight: all refused too,
    # and never a retry of a capped request after the crawl knew
    assert 1 <= len(refused) <= 3, log[-5:]
    assert refused == list(range(refused[0], len(log))), log[refused[0]:]
    assert not [e for e in log if e["status"] == 429 and e["problem"] != CAPPED_TYPE]
    # what was imported stays, and is right: every post served is stored
    usage = emulator.get_json("/_emulator/usage")
    assert usage["capped"] and usage["served"] >= 350
    want = truth(emulator, V2)
    snap = target.snapshot()
    assert snap.count("Tweet") >= usage["served"]
    assert set(snap.items) <= set(want)

    lifted = emulator.post_json("/_emulator/usage", {"cap": None})
    assert lifted["cap"] is None and not lifted["capped"]
    seq = log[-1]["seq"]
    rerun = crawl(emulator.url, target, settings=settings, timeout=TIMEOUT, log=tmp_path / "rerun.log")

    assert rerun.returncode == 0, rerun.log[-3000:]
    assert finish_reason(rerun.log) == "finished"
    assert error_lines(rerun.log) == []
    if jobdir:
        # resumed from the job directory: the refused and the held requests, nothing redone
        assert "Resuming crawl" in rerun.log
        assert not [e for e in requests_log(emulator, seq) if e["endpoint"] == "users/by/username"]
    assert_equals_truth(target.snapshot(), want, me_id(emulator))


@pytest.mark.parametrize("problem", [
    pytest.param(None, id="credits-exhausted-402"),
    pytest.param({"status": 403, "type": "https://api.twitter.com/2/problems/something-new",
                  "title": "SomethingNew", "detail": "A refusal nobody documented."},
                 id="unknown-problem-type-403"),
])
def test_unknown_4xx_problem_closes_with_its_reason(
    problem: dict[str, Any] | None, tmp_path: Path, start_emulator: Any
) -> None:
    emulator: ServerProcess = start_emulator(*WORLD, *(() if problem else ("--credits-exhausted",)))
    if problem:
        emulator.post_json("/_emulator/usage", {"problem": problem})
    title, detail, status = (
        (problem["title"], problem["detail"], problem["status"]) if problem else
        ("CreditsDepleted", "Your enrolled account does not have any credits to fulfill this "
         "request.", 402))
    target = SQLiteTarget(tmp_path / "pod.sqlite3")

    result = crawl(emulator.url, target, settings=V2.settings, timeout=TIMEOUT)

    assert result.returncode == 1, result.log[-3000:]
    assert finish_reason(result.log) == "twitter_api_problem"
    [line] = error_lines(result.log)
    for words in (f"HTTP {status}", title, detail, "developer console"):
        assert words in line, line
    log = requests_log(emulator)
    assert [e["status"] for e in log] == [status], log  # the profile, refused; nothing after it


def test_rate_limit_is_still_parked_and_recovered(tmp_path: Path, start_emulator: Any) -> None:
    """A true rate limit (429 ``about:blank``, remaining 0) on the same crawl is waited for, not
    taken for a cap: 2 timeline requests per 3-second window, the first window spent before the
    crawl starts, so its first timeline request meets the 429."""
    emulator: ServerProcess = start_emulator(*WORLD, "--window", "3", "--quota", "users/tweets=2")
    target = SQLiteTarget(tmp_path / "pod.sqlite3")
    me = me_id(emulator)
    for _ in range(3):
        signed_get_path(emulator.url, f"/2/users/{me}/tweets", {})

    result = crawl(emulator.url, target, settings=V2.settings, timeout=TIMEOUT)

    assert result.returncode == 0, result.log[-3000:]
    assert finish_reason(result.log) == "finished"
    assert error_lines(result.log) == []
    dump = stats(result.log)
    assert dump.get("twitter/ratelimit/parked", 0) > 0
    assert dump.get("twitter/ratelimit/429", 0) >= 1
    assert "twitter/ratelimit/stop" not in dump
    limited = [e for e in requests_log(emulator) if e["status"] == 429]
    assert limited and {e["problem"] for e in limited} == {"about:blank"}
    assert_equals_truth(target.snapshot(), truth(emulator, V2), me_id(emulator))
