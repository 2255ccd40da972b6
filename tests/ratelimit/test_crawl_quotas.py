"""Real crawls (``scrapy crawl`` subprocesses) against the emulator with a compressed quota
window of a few seconds: parking from the headers (no 429 at all, other endpoints served while
one is parked), and a 429 provoked by spending the quota before the crawl (the request waits for
the reset, succeeds, and the import is complete); over each API version (v2's 429 is a problem
JSON without a code). Proof comes from the emulator's timestamped request log and the crawl's log
and stats, never from how long anything took."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.support.apicheck import (
    assert_export_equals_truth,
    assert_store_equals_truth,
    lines,
    requests_log,
    signed_get_path,
    stats,
    truth,
)
from tests.support.apiversion import BOTH, ApiVersion
from tests.support.crawl import read_jsonl, run_crawl
from tests.support.servers import ServerProcess

RATELIMIT = "twitter_crawler.downloadermiddlewares.ratelimit"
REACHED = re.compile(
    r"(?P<endpoint>\S+): rate limit reached, (?P<n>\d+) requests? wait until "
    r"(?P<until>\d\d:\d\d:\d\d) UTC \((?:\d+m )?\d+s\)$")
RESUMED = re.compile(r"(?P<endpoint>\S+): rate limit window reset, (?P<n>\d+) parked requests? resume$")


def until_epoch(until: str, near: float) -> float:
    """The epoch second of an ``HH:MM:SS`` UTC time within 12 hours of ``near``."""
    day = datetime.fromtimestamp(near, tz=UTC)
    t = datetime.strptime(until, "%H:%M:%S").time()
    candidate = datetime.combine(day.date(), t, tzinfo=UTC)
    if (candidate - day).total_seconds() > 43_200:
        candidate -= timedelta(days=1)
    elif (day - candidate).total_seconds() > 43_200:
        candidate += timedelta(days=1)
    return candidate.timestamp()


@pytest.mark.parametrize("api", BOTH)
def test_headers_park_an_endpoint_without_any_429_while_others_go_on(
    tmp_path: Path, api: ApiVersion
) -> None:
    """The followers endpoint may be called once per 2-second window; three pages of followers
    need three windows. The crawl reads the headers, parks the next page until each reset (saying
    so in the log), meets no 429, and meanwhile the long own timeline keeps being served."""
    followers = 2 * api.contacts_page + api.contacts_page // 4  # three pages
    world = ("--followers", str(followers), "--followings", "20", "--tweets", "2400",
             "--following-tweets", "5", "--protected-followings", "1", "--suspended-followings", "1",
             "--seed", "5", "--window", "2", "--quota", f"{api.followers}=1", "--latency", "0.1")
    out, pod = tmp_path / "items.jsonl", tmp_path / "pod.sqlite3"
    with ServerProcess("twitter_emulator", *world) as emulator:
        result = run_crawl(emulator.url, "alice", "-O", str(out),
                           settings={"POD_URL": f"sqlite:///{pod}", "TWITTER_CONTACTS_STRATEGY": "list",
                                     "TWITTER_RATELIMIT_MARGIN": "0.5", **api.settings})
        log = requests_log(emulator)
        want = truth(emulator, api=api.version)
    assert result.returncode == 0, result.stderr[-3000:]

    # no 429 at all
    assert [e for e in log if e["status"] == 429] == []
    # complete, nothing twice
    assert_export_equals_truth(read_jsonl(out), want)
    assert_store_equals_truth(pod, want)

    # the followers: three pages, one per window; between a page and the next (the parked
    # request's release) other endpoints were answered
    pages = [i for i, e in enumerate(log) if e["endpoint"] == api.followers]
    assert len(pages) == 3
    served_meanwhile = [
        [e for e in log[a + 1 : b] if e["endpoint"] != api.followers and e["status"] == 200]
        for a, b in zip(pages, pages[1:], strict=False)
    ]
    assert served_meanwhile[0], f"nothing else was served while {api.followers} was parked"
    assert sum(e["endpoint"] == api.timeline for e in served_meanwhile[0]) >= 2

    # the log says who waits until when, and the release is not earlier than it says
    messages = lines(result.stderr, "INFO", RATELIMIT)
    reached = [m for m in map(REACHED.match, messages) if m]
    resumed = [m for m in map(RESUMED.match, messages) if m]
    assert [(m["endpoint"], m["n"]) for m in reached] == [(api.followers, "1")] * 2, messages
    assert [(m["endpoint"], m["n"]) for m in resumed] == [(api.followers, "1")] * 2, messages
    for line, released in zip(reached, pages[1:], strict=False):
        arrived = log[released]["time"]
        assert until_epoch(line["until"], arrived) <= arrived, (line[0], arrived)
    # each "reached" comes before its "resume"
    order = [m for m in messages if REACHED.match(m) or RESUMED.match(m)]
    assert [bool(REACHED.match(m)) for m in order] == [True, False, True, False]

    dump = stats(result.stderr)
    assert dump["twitter/ratelimit/parked"] == 2
    assert dump[f"twitter/ratelimit/endpoint/{api.followers}/parked"] == 2
    assert dump["twitter/ratelimit/wait_seconds"] > 0
    assert "twitter/ratelimit/429" not in dump
    assert "twitter/ratelimit/clamped" not in dump
    assert "2 parked for rate limits" in result.stderr  # the summary


#: The profile request the test makes itself, to spend the crawl's quota: path and query.
PROFILE = {"1.1": ("/1.1/users/show.json", {"screen_name": "alice"}),
           "2": ("/2/users/by/username/alice", {})}


@pytest.mark.parametrize("api", BOTH)
def test_429_after_a_spent_quota_is_retried_after_the_reset(tmp_path: Path, api: ApiVersion) -> None:
    """The test spends the profile endpoint's quota (2 per 5-second window) with the crawl's
    own access token before the crawl starts: the crawl's first request gets a 429 (v1.1: code
    88; v2: a problem without a code), waits for the reset the answer names, is sent again
    (signed anew) and succeeds; the import is complete."""
    world = ("--followers", "30", "--followings", "6", "--tweets", "40", "--following-tweets", "3",
             "--protected-followings", "1", "--suspended-followings", "1", "--seed", "9",
             "--window", "5", "--quota", f"{api.profile}=2")
    out, pod = tmp_path / "items.jsonl", tmp_path / "pod.sqlite3"
    with ServerProcess("twitter_emulator", *world) as emulator:
        spent = [signed_get_path(emulator.url, *PROFILE[api.version]) for _ in range(2)]
        assert [s[0] for s in spent] == [200, 200]
        assert spent[-1][1]["x-rate-limit-remaining"] == "0"
        reset = int(spent[-1][1]["x-rate-limit-reset"])
        result = run_crawl(emulator.url, "alice", "-O", str(out),
                           settings={"POD_URL": f"sqlite:///{pod}", "TWITTER_RATELIMIT_MARGIN": "0.5",
                                     **api.settings})
        log = requests_log(emulator)[2:]  # the crawl's requests
        want = truth(emulator, api=api.version)
    assert result.returncode == 0, result.stderr[-3000:]

    shows = [e for e in log if e["endpoint"] == api.profile]
    assert [e["status"] for e in shows] == [429, 200], (
        "no 429: did the crawl start after the window (5 s) was over?" if shows[0]["status"] == 200 else shows)
    assert shows[0]["time"] < reset <= shows[1]["time"], "sent again before the reset"
    # nothing else went out before the user was known, and the rest of the import followed
    assert log[0] is shows[0] and log[1] is shows[1]
    assert [e for e in log if e["status"] == 429] == [shows[0]]
    assert_export_equals_truth(read_jsonl(out), want)
    assert_store_equals_truth(pod, want)

    dump = stats(result.stderr)
    assert dump["twitter/ratelimit/429"] == 1
    assert dump[f"twitter/ratelimit/endpoint/{api.profile}/429"] == 1
    assert dump["twitter/ratelimit/parked"] == 1
    assert "retry/count" not in dump  # not RetryMiddleware's business
    messages = lines(result.stderr, "INFO", RATELIMIT)
    assert any(m.startswith(f"{api.profile}: rate limit reached, 1 request wait until ") for m in messages), messages
    assert f"{api.profile}: rate limit window reset, 1 parked request resume" in messages
