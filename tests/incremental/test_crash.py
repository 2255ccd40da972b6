"""``kill -9`` in the middle of a timeline walk, no JOBDIR (PRODUCT.md §5, §7): the watermark
has not moved, so the rerun imports the tweets the killed run had not reached; nothing twice.

The own timeline is long (3,000 tweets, 15 pages; then 1,600 new ones, 8 pages) and the emulator
slow (``--latency``), so the crawl can be killed while the walk is known to be under way: the
emulator has answered some of its pages and the store holds some of its tweets.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

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
    truth,
    wait_until,
)
from tests.support.servers import ServerProcess

OWN_TWEETS = 3000
NEW_TWEETS = 1600
LATENCY = "0.25"
WORLD = ["--handle", "alice", "--followers", "40", "--followings", "8", "--tweets", str(OWN_TWEETS),
         "--following-tweets", "8", "--protected-followings", "1", "--suspended-followings", "0",
         "--latency", LATENCY, "--seed", "5"]


def own_tweets(snap: Snapshot, me: str) -> set[str]:
    return {e[2] for e in snap.edges if e[3] == "author" and e[4:] == ("Account", me)}


def kill_mid_walk(emulator: ServerProcess, target: StoreTarget, me: str, log: Path,
                  already: int) -> Snapshot:
    """Runs a crawl and kills it once the emulator answered a few pages of the own timeline
    and the store holds more of its tweets than ``already``; returns what the store holds."""
    seq = log_seq(emulator)
    process = CrawlProcess(emulator.url, target, log)
    try:
        wait_until(
            lambda: sum(e["query"]["user_id"] == me for e in timeline_requests(emulator, seq)) >= 2
            or not process.running(),
            "a few pages of the own timeline",
        )
        assert process.running(), f"the crawl ended before it could be killed:\n{process.log[-3000:]}"
        wait_until(lambda: target.tweet_count() > already or not process.running(),
                   "tweets in the store")
        assert process.kill() != 0
    finally:
        process.close()
    return target.snapshot()


def test_kill_mid_timeline_then_rerun_imports_the_rest(
    start_emulator: Callable[..., ServerProcess], target: StoreTarget, tmp_path: Path
) -> None:
    emulator = start_emulator(*WORLD)
    me = me_id(emulator)
    before = truth(emulator)
    all_own = {k[1] for k in before if k[0] == "Tweet"} & {
        k[2] for k in before if k[0] == "Edge" and k[3] == "author" and k[4:] == ("Account", me)
    }
    assert len(all_own) == OWN_TWEETS

    # A first import, killed mid-walk.
    killed = kill_mid_walk(emulator, target, me, tmp_path / "killed.log", 0)
    stored = own_tweets(killed, me)
    assert 0 < len(stored) < OWN_TWEETS, "killed too late or too early to show anything"
    assert me not in killed.watermarks, "the watermark advanced past tweets not imported yet"

    seq = log_seq(emulator)
    rerun = crawl(emulator.url, target, log=tmp_path / "rerun.log")
    assert rerun.returncode == 0, rerun.log[-3000:]
    assert error_lines(rerun.log) == []
    first_own = next(e for e in timeline_requests(emulator, seq) if e["query"]["user_id"] == me)
    assert "since_id" not in first_own["query"]
    complete = target.snapshot()
    assert_equals_truth(complete, before, me)
    assert own_tweets(complete, me) == all_own
    watermark = complete.watermarks[me]
    assert watermark == max(all_own, key=int)

    # An incremental import (the watermark exists), killed mid-walk: the watermark stays.
    emulator.post_json("/_emulator/mutate", {"new_tweets": NEW_TWEETS})
    after = truth(emulator)
    killed = kill_mid_walk(emulator, target, me, tmp_path / "killed-again.log",
                           complete.count("Tweet"))
    new_stored = own_tweets(killed, me) - all_own
    assert 0 < len(new_stored) < NEW_TWEETS, "killed too late or too early to show anything"
    assert killed.watermarks[me] == watermark, "the watermark moved before the walk reached it"

    rerun = crawl(emulator.url, target, log=tmp_path / "rerun-again.log")
    assert rerun.returncode == 0, rerun.log[-3000:]
    assert error_lines(rerun.log) == []
    final = target.snapshot()
    assert_updated_to_truth(final, before, after, me)
    new_own = {k[1] for k in after if k[0] == "Tweet"} - set(k[1] for k in before if k[0] == "Tweet")
    assert len(new_own & own_tweets(final, me)) == NEW_TWEETS
    assert final.watermarks[me] == max(new_own & own_tweets(final, me), key=int)
