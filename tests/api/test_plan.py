"""The plan's arithmetic (twitter_crawler.api.plan): requests, resources, bounds, time."""

from __future__ import annotations

from twitter_crawler.api.plan import (
    Arguments,
    Profile,
    Shape,
    first_import,
    report,
    unchanged_rerun,
)
from twitter_crawler.api.prices import parse_prices
from twitter_crawler.api.v2.requests import ApiV2
from twitter_crawler.spiders.arguments import PARTS

ALL = Arguments(frozenset(PARTS), None, 5)


def shape(*, owned: bool = False, full: bool = False, prices: str = "") -> Shape:
    return Shape(
        endpoints={"profile": "users/by/username", "timeline": "users/tweets",
                   "users/me": "users/me", **ApiV2.contacts_endpoints},
        contacts_page=1000, timeline_page=100, timeline_cap=3200, quotas=dict(ApiV2.quotas),
        prices=parse_prices(prices), owned=owned, users_me=owned, first_page=20,
        full_refresh_every_run=full,
    )


def test_first_import_of_the_realistic_world_on_an_app_token() -> None:
    est = first_import(Profile(10_000, 500, 5_000), ALL, shape())
    assert est.requests == {"users/by/username": 1, "users/followers": 10,
                            "users/following": 1, "users/tweets": 32 + 500}
    assert est.resources["follows"] == (10_000, 10_500)
    assert est.resources["posts"] == (3_200, 3_200 + 2_500)
    assert est.resources["users"] == (0, 1)
    # 10,000 follows at $0.010 and 3,200 posts at $0.005, at least.
    assert est.low == 116_000_000
    # + the profile, 500 followings, 2,500 posts, and includes for each of 5,700 posts.
    assert est.high == 116_000_000 + 10_000 + 5_000_000 + 12_500_000 + 5_700 * 15_000
    assert est.minutes(ApiV2.quotas) == 0


def test_owned_reads_and_users_me() -> None:
    est = first_import(Profile(100, 10, 50), ALL, shape(owned=True))
    assert est.requests["users/me"] == 1
    assert est.resources["owned"] == (150, 160)
    assert est.resources["posts"] == (0, 50)
    assert est.low == 150 * 1_000


def test_prices_and_limits_are_honoured() -> None:
    args = Arguments(frozenset({"user", "followers", "timeline"}), 30, 5)
    est = first_import(Profile(100, 10, 50), args, shape(prices="follows=0.02,posts=0.001"))
    assert est.requests == {"users/by/username": 1, "users/followers": 1, "users/tweets": 1}
    assert est.resources["follows"] == (30, 30)
    assert est.low == 30 * 20_000 + 30 * 1_000


def test_unchanged_rerun_reads_one_first_page_a_list_and_empty_timelines() -> None:
    est = unchanged_rerun(Profile(10_000, 500, 5_000), ALL, shape())
    assert est.requests == {"users/by/username": 1, "users/followers": 1,
                            "users/following": 1, "users/tweets": 501}
    assert est.resources == {"users": (1, 1), "follows": (20, 40)}
    assert (est.low, est.high) == (210_000, 410_000)
    full = unchanged_rerun(Profile(10_000, 500, 5_000), ALL, shape(full=True))
    assert full.requests["users/followers"] == 10
    assert full.resources["follows"] == (10_000, 10_500)


def test_time_under_the_rate_limits() -> None:
    est = first_import(Profile(1_000_000, 0, 0), Arguments(frozenset({"followers"}), None, 0),
                       shape())
    # 1,000 pages at 300 a window: four windows, three waited out.
    assert est.requests["users/followers"] == 1_000
    assert est.minutes(ApiV2.quotas) == 45


def test_the_report_ends_with_the_range() -> None:
    lines = report("alice", Profile(10_000, 500, 5_000), ALL, shape())
    assert lines[-1] == "estimated cost: $116.00 – $219.01"
    assert any(line.startswith("Unchanged rerun") for line in lines)
