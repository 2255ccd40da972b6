"""Reruns (PRODUCT.md §5): an unchanged account costs one timeline request per account and
writes nothing; a changed world is brought into the store exactly, nothing twice. Real
``scrapy crawl`` processes against a real emulator, into each store, read back directly, over
each API version."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.incremental.support import (
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
    timeline_user,
    truth,
)
from tests.support.apiversion import BOTH, V1, V2, ApiVersion
from tests.support.servers import ServerProcess

WORLD = ["--handle", "alice", "--followers", "150", "--followings", "30", "--tweets", "260",
         "--following-tweets", "10", "--protected-followings", "1", "--suspended-followings", "1",
         "--seed", "11"]
CHANGES = {"new_tweets": 230, "new_followers": 12, "unfollows": 9, "new_following_tweets": 3,
           "new_followings": 3, "unfollowings": 2}
WRITE_STATS = ("twitter/store/created/", "twitter/store/updated/",
               "twitter/store/edges_created/", "twitter/store/edges_removed/")


@pytest.mark.parametrize("api", BOTH)
def test_unchanged_rerun_makes_one_timeline_request_per_account_and_writes_nothing(
    start_emulator: Callable[..., ServerProcess], target: StoreTarget, api: ApiVersion
) -> None:
    emulator = start_emulator(*WORLD)
    me = me_id(emulator)

    first = crawl(emulator.url, target, settings=api.settings)
    assert first.returncode == 0, first.log[-3000:]
    assert error_lines(first.log) == []
    walked = per_user(timeline_requests(emulator, 0))
    assert walked[me] > 1, "the first run walks the own timeline over several pages"
    stored = target.snapshot()
    assert_equals_truth(stored, truth(emulator, api), me)
    assert me in stored.watermarks

    seq = log_seq(emulator)
    second = crawl(emulator.url, target, settings=api.settings)
    assert second.returncode == 0, second.log[-3000:]
    assert error_lines(second.log) == []
    assert "Import finished" in second.log

    rerun = timeline_requests(emulator, seq)
    # Every timeline the first run asked for (the protected one too), asked for once.
    assert per_user(rerun) == dict.fromkeys(walked, 1)
    for entry in rerun:
        user = timeline_user(entry)
        if user in stored.watermarks:
            assert entry["query"].get("since_id") == stored.watermarks[user], entry
    stats = crawl_stats(second.log)
    writes = {k: v for k, v in stats.items() if k.startswith(WRITE_STATS) and v}
    assert writes == {}, f"an unchanged rerun wrote {writes}"
    assert stats.get("twitter/store/unchanged/Account", 0) > 0
    summary = second.log[second.log.index("Import finished"):]
    for label in ("accounts", "tweets", "photos", "videos", "links"):
        assert "(0 new," in summary.split(label, 1)[1].splitlines()[0], label

    again = target.snapshot()
    assert again.items == stored.items
    assert sorted(again.edges) == sorted(stored.edges)
    assert again.watermarks == stored.watermarks
    assert again.modified == stored.modified, "items were rewritten"


@pytest.mark.parametrize(
    ("target", "api", "strategy"),
    [pytest.param(store, V1, strategy, id=f"{store}-v1.1-{strategy}")
     for store in ("sqlite", "pod", "postgres") for strategy in ("list", "ids")]
    # v2 has one way to read contacts (full users, 1,000 a page): no strategy to vary. Into
    # SQLite only: how a store updates in place does not depend on the API version, and the
    # unchanged rerun above already writes v2's items into the Pod.
    + [pytest.param("sqlite", V2, "auto", id="sqlite-v2")],
    indirect=["target"],
)
def test_rerun_brings_a_changed_world_into_the_store_exactly(
    start_emulator: Callable[..., ServerProcess], target: StoreTarget, api: ApiVersion,
    strategy: str
) -> None:
    """Followers and followings read every way: ``followers/list`` pages, ``followers/ids``
    pages whose accounts arrive later through ``users/lookup``, or v2's
    ``/2/users/:id/followers`` pages; in full (``TWITTER_CONTACTS_FULL_REFRESH=0``)."""
    emulator = start_emulator(*WORLD)
    me = me_id(emulator)
    # A full read every run: unfollows are seen only by one (the newest-first refresh of a
    # list read in full recently is tests/incremental/test_contacts_refresh.py's).
    settings = {"TWITTER_CONTACTS_STRATEGY": strategy, "TWITTER_CONTACTS_FULL_REFRESH": "0",
                **api.settings}

    first = crawl(emulator.url, target, settings=settings)
    assert first.returncode == 0, first.log[-3000:]
    assert error_lines(first.log) == []
    before = truth(emulator, api)
    assert_equals_truth(target.snapshot(), before, me)

    changed = emulator.post_json("/_emulator/mutate", CHANGES)
    assert changed["removed_followers"] == CHANGES["unfollows"]
    assert changed["removed_followings"] == CHANGES["unfollowings"]
    after = truth(emulator, api)
    new_tweets = {k for k in after if k[0] == "Tweet"} - set(before)
    assert len(new_tweets) >= CHANGES["new_tweets"]

    seq = log_seq(emulator)
    second = crawl(emulator.url, target, settings=settings)
    assert second.returncode == 0, second.log[-3000:]
    assert error_lines(second.log) == []
    assert_updated_to_truth(target.snapshot(), before, after, me)

    stats = crawl_stats(second.log)
    assert stats.get("twitter/store/edges_removed/follower") == CHANGES["unfollows"]
    assert stats.get("twitter/store/edges_removed/following") == CHANGES["unfollowings"]
    assert stats.get("twitter/store/edges_created/follower") == CHANGES["new_followers"]
    assert stats.get("twitter/store/created/Tweet", 0) >= len(new_tweets)
    # The own timeline gained more than one page: walked from the top down to the watermark.
    own = [e for e in timeline_requests(emulator, seq) if timeline_user(e) == me]
    assert len(own) >= 2
    assert all(e["query"].get("since_id") for e in own)
