"""The synthetic world in-process: laziness, determinism, ids and names."""

from __future__ import annotations

import time
import tracemalloc

from twitter_emulator.api import SyntheticApi
from twitter_emulator.world import ME, World, WorldOptions


def test_large_world_is_lazy() -> None:
    tracemalloc.start()
    started = time.perf_counter()
    world = World(WorldOptions(followers=100_000, followings=500, tweets=3200, following_tweets=3200))
    api = SyntheticApi(world)
    page = api.contacts_ids("followers", {"count": "5000", "cursor": "-1"})
    last = world.followers.member(1)
    tweets = api.user_timeline({"user_id": str(world.user_id(world.followings.member(1))), "count": "200",
                                "max_id": str(world.tweet_id(world.followings.member(1), 100))})
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert len(page["ids"]) == 5000 and world.account(last).followers_count >= 0
    assert len(tweets) == 101
    assert world.account(ME).followers_count == 100_000
    assert peak < 30 * 1024 * 1024 and elapsed < 10


def test_same_seed_same_world_other_seed_other_world() -> None:
    a, b, c = (World(WorldOptions(followers=50, seed=s)) for s in (1, 1, 2))
    assert a.account(ME) == b.account(ME)
    assert [a.tweet(ME, n) for n in range(50)] == [b.tweet(ME, n) for n in range(50)]
    assert [a.tweet(ME, n).text for n in range(50)] != [c.tweet(ME, n).text for n in range(50)]


def test_ids_and_names_round_trip() -> None:
    world = World(WorldOptions(followers=300, followings=40, seed=5))
    for slot in [ME, 1, 17, 299, 300, 330, world.pool_slot(world.pool - 1)]:
        assert world.slot_by_id(world.user_id(slot)) == slot
        assert world.slot_by_name(world.screen_name(slot).upper()) == slot
        for n in (0, 5, world.timeline_len(slot) - 1):
            assert world.decode_tweet_id(world.tweet_id(slot, n)) == (slot, n)
    assert world.slot_by_name("nobody_here") is None and world.slot_by_id(42) is None
    ids = [world.tweet_id(ME, n) for n in range(world.timeline_len(ME))]
    assert ids == sorted(ids) and len(set(ids)) == len(ids) and ids[0] > 2**53
