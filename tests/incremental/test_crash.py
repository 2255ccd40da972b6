"""``kill -9`` in the middle of a timeline walk, no JOBDIR (PRODUCT.md §5, §7): the watermark
has not moved, so the rerun imports the tweets the killed run had not reached; nothing twice.

The own timeline is long (15 pages; then 8 pages of new tweets) and the emulator slow
(``--latency``), so the crawl can be killed while the walk is known to be under way: the
emulator has answered some of its pages and the store holds some of its tweets.

Over API v2 (100 tweets a page, v1.1: 200) the world has half the tweets, so both walks are as
many pages long. v2 runs into SQLite only: the test is one of the slowest, and what it shows
over v2 (a walk paged by ``pagination_token`` and cut short leaves the watermark alone) does not
depend on the store; the v1.1 runs cover both stores.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.incremental.support import (
    CrawlProcess,
    Snapshot,
    StoreTarget,
    assert_equals_truth,
    assert_updated_to_truth,
    crawl,
    error_lines,
    log_seq,
    me_id,
    timeline_requests,
    timeline_user,
    truth,
    wait_until,
)
from tests.support.apiversion import V1, V2, ApiVersion
from tests.support.servers import ServerProcess

#: Pages of the own timeline: the first import's walk, then the incremental one's.
OWN_PAGES = 15
NEW_PAGES = 8
LATENCY = "0.25"


def world(own_tweets: int) -> list[str]:
    return ["--handle", "alice", "--followers", "40", "--followings", "8", "--tweets", str(own_tweets),
            "--following-tweets", "8", "--protected-followings", "1", "--suspended-followings", "0",
            "--latency", LATENCY, "--seed", "5"]


def own_tweets_in(snap: Snapshot, me: str) -> set[str]:
    return {e[2] for e in snap.edges if e[3] == "author" and e[4:] == ("Account", me)}


def kill_mid_walk(emulator: ServerProcess, target: StoreTarget, me: str, log: Path,
                  already: int, api: ApiVersion) -> Snapshot:
    """Runs a crawl and kills it once the emulator answered a few pages of the own timeline
    and the store holds more of its tweets than ``already``; returns what the store holds."""
    seq = log_seq(emulator)
    process = CrawlProcess(emulator.url, target, log, api.settings)
    try:
        wait_until(
            lambda: sum(timeline_user(e) == me for e in timeline_requests(emulator, seq)) >= 2
            or not process.running(),
            "a few pages of the own timeline",
        )
        assert process.running(), f"the crawl ended before it could be killed:\n{process.log[-3000:]}"
        # Not too often: a Pod answers each look with a dump of everything, and a Pod kept
        # busy dumping holds the crawl's writes back until its walk is over.
        wait_until(lambda: target.tweet_count() > already or not process.running(),
                   "tweets in the store", interval=0.25)
        assert process.running(), f"the crawl ended before it could be killed:\n{process.log[-3000:]}"
        assert process.kill() != 0
    finally:
        process.close()
    return target.snapshot()


@pytest.mark.parametrize(
    ("api", "target"),
    [pytest.param(V1, "sqlite", id="sqlite-v1.1"), pytest.param(V1, "pod", id="pod-v1.1"),
     pytest.param(V1, "postgres", id="postgres-v1.1"), pytest.param(V2, "sqlite", id="sqlite-v2")],
    indirect=["target"],
)
def test_kill_mid_timeline_then_rerun_imports_the_rest(
    start_emulator: Callable[..., ServerProcess], target: StoreTarget, tmp_path: Path,
    api: ApiVersion
) -> None:
    own_tweets, new_tweets = OWN_PAGES * api.timeline_page, NEW_PAGES * api.timeline_page
    emulator = start_emulator(*world(own_tweets))
    me = me_id(emulator)
    before = truth(emulator, api)
    all_own = {k[1] for k in before if k[0] == "Tweet"} & {
        k[2] for k in before if k[0] == "Edge" and k[3] == "author" and k[4:] == ("Account", me)
    }
    assert len(all_own) == own_tweets

    # A first import, killed mid-walk.
    killed = kill_mid_walk(emulator, target, me, tmp_path / "killed.log", 0, api)
    stored = own_tweets_in(killed, me)
    assert 0 < len(stored) < own_tweets, "killed too late or too early to show anything"
    assert me not in killed.watermarks, "the watermark advanced past tweets not imported yet"

    seq = log_seq(emulator)
    rerun = crawl(emulator.url, target, settings=api.settings, log=tmp_path / "rerun.log")
    assert rerun.returncode == 0, rerun.log[-3000:]
    assert error_lines(rerun.log) == []
    first_own = next(e for e in timeline_requests(emulator, seq) if timeline_user(e) == me)
    assert "since_id" not in first_own["query"]
    complete = target.snapshot()
    assert_equals_truth(complete, before, me)
    assert own_tweets_in(complete, me) == all_own
    watermark = complete.watermarks[me]
    assert watermark == max(all_own, key=int)

    # An incremental import (the watermark exists), killed mid-walk: the watermark stays.
    emulator.post_json("/_emulator/mutate", {"new_tweets": new_tweets})
    after = truth(emulator, api)
    killed = kill_mid_walk(emulator, target, me, tmp_path / "killed-again.log",
                           complete.count("Tweet"), api)
    new_stored = own_tweets_in(killed, me) - all_own
    assert 0 < len(new_stored) < new_tweets, "killed too late or too early to show anything"
    assert killed.watermarks[me] == watermark, "the watermark moved before the walk reached it"

    rerun = crawl(emulator.url, target, settings=api.settings, log=tmp_path / "rerun-again.log")
    assert rerun.returncode == 0, rerun.log[-3000:]
    assert error_lines(rerun.log) == []
    final = target.snapshot()
    assert_updated_to_truth(final, before, after, me)
    new_own = {k[1] for k in after if k[0] == "Tweet"} - set(k[1] for k in before if k[0] == "Tweet")
    assert len(new_own & own_tweets_in(final, me)) == new_tweets
    assert final.watermarks[me] == max(new_own & own_tweets_in(final, me), key=int)
