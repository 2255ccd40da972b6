"""The contacts refresh (issue 16): a rerun reads followers and followings newest first until the
new ones are known, and reads a list in full (seeing unfollows) only when a full read is due
(``TWITTER_CONTACTS_FULL_REFRESH`` days since the store last read it in full; 0: every run).

Real ``scrapy crawl`` processes against a real emulator that bills v2 as X does, into each store;
costs are the emulator's bill, with the billing clock moved to the next UTC day between runs so
that X's daily deduplication does not hide a re-read.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any

import pytest

from tests.incremental.support import (
    SQLiteTarget,
    StoreTarget,
    assert_equals_truth,
    assert_updated_to_truth,
    crawl,
    crawl_stats,
    error_lines,
    log_seq,
    me_id,
    per_user,
    timeline_requests,
    truth,
)
from tests.support.apiversion import V1, V2
from tests.support.servers import ServerProcess

WORLD = ["--handle", "alice", "--followers", "1500", "--followings", "60", "--tweets", "120",
         "--following-tweets", "5", "--protected-followings", "1", "--suspended-followings", "1",
         "--seed", "16"]
#: API v2 on an app-only token: nothing is an Owned Read, every follower costs $0.010.
V2_APP = {"TWITTER_API_VERSION": "2", "TWITTER_BEARER_TOKEN": "emulator-bearer-token"}
CONTACT_ENDPOINTS = ("users/followers", "users/following", "followers/list", "friends/list",
                     "followers/ids", "friends/ids")
#: No new tweets of followed accounts: until the full refresh, the timelines of the followings
#: the store holds are read, the 2 unfollowed ones too, whose new tweets the truth would not list.
CHANGES = {"new_followers": 12, "unfollows": 9, "new_followings": 3, "unfollowings": 2}


def bill_usd(emulator: ServerProcess) -> float:
    return float(emulator.get_json("/_emulator/bill")["total_usd"])


def next_day(emulator: ServerProcess) -> None:
    """The billing clock to the next UTC day: a resource read again is billed again."""
    emulator.post_json("/_emulator/billing", {"advance_days": 1})


def requests_since(emulator: ServerProcess, since: int) -> list[dict[str, Any]]:
    return [e for e in emulator.get_json(f"/_emulator/log?since={since}")["requests"]
            if not e["media"]]


def contact_requests(emulator: ServerProcess, since: int) -> list[dict[str, Any]]:
    return [e for e in requests_since(emulator, since) if e["endpoint"] in CONTACT_ENDPOINTS]


def page_size(entry: dict[str, Any]) -> int:
    return int(entry["query"].get("max_results") or entry["query"]["count"])


def contact_edges(target: StoreTarget, me: str, name: str) -> set[str]:
    return {e[5] for e in target.snapshot().edges if e[1:4] == ("Account", me, name)}


@pytest.mark.parametrize("target", ["sqlite", "pod", "postgres"], indirect=True)
def test_an_unchanged_rerun_reads_one_small_page_per_list_and_costs_almost_nothing(
    start_emulator: Callable[..., ServerProcess], target: StoreTarget
) -> None:
    emulator = start_emulator(*WORLD)
    me = me_id(emulator)
    first = crawl(emulator.url, target, settings=V2_APP)
    assert first.returncode == 0, first.log[-3000:]
    assert error_lines(first.log) == []
    first_cost = bill_usd(emulator)
    stored = target.snapshot()
    assert_equals_truth(stored, truth(emulator, V2), me)
    walked = per_user(timeline_requests(emulator, 0))

    next_day(emulator)
    seq = log_seq(emulator)
    second = crawl(emulator.url, target, settings=V2_APP)
    assert second.returncode == 0, second.log[-3000:]
    assert error_lines(second.log) == []
    rerun_cost = bill_usd(emulator) - first_cost

    # One page of 20 per list, stopped by the accounts it already holds.
    contacts = contact_requests(emulator, seq)
    assert sorted(e["endpoint"] for e in contacts) == ["users/followers", "users/following"]
    assert [page_size(e) for e in contacts] == [20, 20]
    assert "Followers of @alice: last read in full 0.0 days ago; reading the newest" in second.log
    stats = crawl_stats(second.log)
    assert stats["twitter/spider/refresh/follower/stopped_at_known"] == 1
    assert stats["twitter/spider/refresh/following/stopped_at_known"] == 1
    assert stats.get("twitter/spider/refresh/follower/new", 0) == 0
    # Every followed account's timeline is still asked for, once, and costs nothing: an empty
    # answer since the watermark is not billed.
    rerun = requests_since(emulator, seq)
    assert per_user(timeline_requests(emulator, seq)) == dict.fromkeys(walked, 1)
    assert sum(e["cost_micro_usd"] or 0 for e in rerun if e["endpoint"] == "users/tweets") == 0

    # The profile (1 user) and two pages of 20 follows: $0.41 against the first import's ~$20.
    assert rerun_cost == pytest.approx(0.41)
    assert rerun_cost <= 0.05 * first_cost, (rerun_cost, first_cost)
    again = target.snapshot()
    assert again.items == stored.items
    assert sorted(again.edges) == sorted(stored.edges)
    assert again.modified == stored.modified, "items were rewritten"


@pytest.mark.parametrize("target", ["sqlite", "pod", "postgres"], indirect=True)
def test_new_follows_come_in_newest_first_and_unfollows_go_at_the_full_refresh(
    start_emulator: Callable[..., ServerProcess], target: StoreTarget
) -> None:
    emulator = start_emulator(*WORLD)
    me = me_id(emulator)
    first = crawl(emulator.url, target, settings=V2_APP)
    assert first.returncode == 0, first.log[-3000:]
    before = truth(emulator, V2)
    followers = contact_edges(target, me, "follower")
    followings = contact_edges(target, me, "following")

    changed = emulator.post_json("/_emulator/mutate", CHANGES)
    after = truth(emulator, V2)
    want_followers = {k[5] for k in after if k[0] == "Edge" and k[1:4] == ("Account", me, "follower")}
    new_followers = want_followers - followers
    assert len(new_followers) == CHANGES["new_followers"]
    assert len(followers - want_followers) == changed["removed_followers"] == CHANGES["unfollows"]

    # Within the refresh period: the new follows are imported, the unfollowed stay.
    next_day(emulator)
    seq = log_seq(emulator)
    second = crawl(emulator.url, target, settings=V2_APP)
    assert second.returncode == 0, second.log[-3000:]
    assert error_lines(second.log) == []
    stats = crawl_stats(second.log)
    assert stats["twitter/store/edges_created/follower"] == CHANGES["new_followers"]
    assert stats["twitter/store/edges_created/following"] == CHANGES["new_followings"]
    assert stats.get("twitter/store/edges_removed/follower", 0) == 0
    assert stats["twitter/spider/refresh/follower/new"] == CHANGES["new_followers"]
    assert contact_edges(target, me, "follower") == followers | new_followers
    # The first page asks for 20 beyond the net growth of the profile's count (12 - 9 = 3).
    sizes = {e["endpoint"]: page_size(e) for e in contact_requests(emulator, seq)}
    assert sizes == {"users/followers": 23, "users/following": 21}
    # The new followings' timelines were read: their tweets are stored.
    new_followings = {
        k[5] for k in after if k[0] == "Edge" and k[1:4] == ("Account", me, "following")
    } - followings
    assert len(new_followings) == CHANGES["new_followings"]
    assert new_followings <= set(per_user(timeline_requests(emulator, seq)))

    # A full read is due (0: every run): the unfollows disappear, the store is the new truth.
    next_day(emulator)
    third = crawl(emulator.url, target,
                  settings={**V2_APP, "TWITTER_CONTACTS_FULL_REFRESH": "0"})
    assert third.returncode == 0, third.log[-3000:]
    assert error_lines(third.log) == []
    stats = crawl_stats(third.log)
    assert stats["twitter/store/edges_removed/follower"] == CHANGES["unfollows"]
    assert stats["twitter/store/edges_removed/following"] == CHANGES["unfollowings"]
    assert_updated_to_truth(target.snapshot(), before, after, me)


def test_a_full_read_is_due_once_the_last_one_is_older_than_the_refresh_period(
    start_emulator: Callable[..., ServerProcess], tmp_path: Any
) -> None:
    """The store's date of the last full read, moved back 8 days as 8 days passing would."""
    target = SQLiteTarget(tmp_path / "pod.sqlite3")
    emulator = start_emulator(*WORLD)
    me = me_id(emulator)
    first = crawl(emulator.url, target, settings=V2_APP)
    assert first.returncode == 0, first.log[-3000:]
    emulator.post_json("/_emulator/mutate", {"unfollows": 5})

    conn = sqlite3.connect(target.path)
    try:
        reads = dict(conn.execute("SELECT name, source FROM contact_reads"))
        assert reads == {"follower": me, "following": me}
        with conn:
            conn.execute("UPDATE contact_reads SET dateRead = dateRead - 8 * 86400 * 1000 "
                         "WHERE name = 'follower'")
    finally:
        conn.close()

    seq = log_seq(emulator)
    second = crawl(emulator.url, target, settings=V2_APP)  # the default: 7 days
    assert second.returncode == 0, second.log[-3000:]
    assert "Followers of @alice: last read in full 8.0 days ago; reading them in full" in second.log
    assert "Following of @alice: last read in full 0.0 days ago; reading the newest" in second.log
    assert crawl_stats(second.log)["twitter/store/edges_removed/follower"] == 5
    pages = [page_size(e) for e in contact_requests(emulator, seq)
             if e["endpoint"] == "users/followers"]
    assert pages == [1000, 1000]  # the whole list again
    # The full read is recorded again: the next run is newest first.
    third = crawl(emulator.url, target, settings=V2_APP)
    assert "Followers of @alice: last read in full 0.0 days ago; reading the newest" in third.log


@pytest.mark.parametrize("strategy", ["list", "ids"])
def test_v1_reads_new_followers_newest_first_and_looks_up_only_the_new(
    start_emulator: Callable[..., ServerProcess], tmp_path: Any, strategy: str
) -> None:
    target = SQLiteTarget(tmp_path / "pod.sqlite3")
    emulator = start_emulator(*WORLD)
    me = me_id(emulator)
    settings = {"TWITTER_CONTACTS_STRATEGY": strategy, **V1.settings}
    first = crawl(emulator.url, target, settings=settings)
    assert first.returncode == 0, first.log[-3000:]
    followers = contact_edges(target, me, "follower")
    emulator.post_json("/_emulator/mutate", {"new_followers": 25})

    seq = log_seq(emulator)
    second = crawl(emulator.url, target, settings=settings)
    assert second.returncode == 0, second.log[-3000:]
    assert error_lines(second.log) == []
    # 45 asked for (20 + the count's growth of 25): the 25 new and known ones below them.
    family = "followers/list" if strategy == "list" else "followers/ids"
    pages = [page_size(e) for e in contact_requests(emulator, seq) if e["endpoint"] == family]
    assert pages == [45]
    lookups = [e for e in requests_since(emulator, seq) if e["endpoint"] == "users/lookup"]
    if strategy == "ids":
        assert len(lookups) == 1
        assert len(lookups[0]["query"]["user_id"].split(",")) == 25
    else:
        assert lookups == []
    now = contact_edges(target, me, "follower")
    assert len(now - followers) == 25 and followers <= now
