"""Followers and followings are read through whichever endpoints finish sooner under the quotas."""

from __future__ import annotations

from twitter_crawler.api.v1.requests import choose_strategy, windows_needed


def test_windows_needed() -> None:
    assert windows_needed(0, 15) == 0
    assert windows_needed(15, 15) == 0
    assert windows_needed(16, 15) == 1
    assert windows_needed(31, 15) == 2


def test_small_lists_use_the_list_endpoints() -> None:
    # 1 list request against 1 ids request + 1 lookup: both free, list makes fewer requests.
    assert choose_strategy(150, 150, None) == {"follower": "list", "following": "list"}
    # 3,000 = 15 list pages: still inside the first window.
    assert choose_strategy(3000, 10, None)["follower"] == "list"


def test_large_lists_use_ids_and_lookup() -> None:
    # 10,000 followers: 50 list pages = 3 more windows; 2 ids pages + 100 lookups = none.
    assert choose_strategy(10_000, 500, None) == {"follower": "ids", "following": "list"}


def test_limit_counts() -> None:
    assert choose_strategy(100_000, 100_000, 200) == {"follower": "list", "following": "list"}
