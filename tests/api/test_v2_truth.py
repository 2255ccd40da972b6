"""A crawl over /2 parsed with ``api/v2/parse.py`` exports exactly ``/_emulator/truth?api=2``.

(Moved from ``tests/emulator``: it drives ``ApiV2`` and the v2 parser directly, not through a
crawl; the emulator and its fixtures are those of ``tests/emulator``.)

The reference walker below builds its requests with ``ApiV2`` and reads every page with the v2
parser, the way the spider will (PRODUCT.md §3: user, followers, followings, own timeline, each
following's newest tweets); items are merged by key as the store does. Agreeing with the ground
truth, which is computed from the world model and never from v2 JSON, checks the requests, the
emulator's /2 and the parser together.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from tests.emulator.conftest import oauth, running
from tests.emulator.refcrawl import Items
from tests.emulator.test_truth import keyed
from tests.emulator.test_v2_client import V2Client
from tests.support.servers import ServerProcess
from twitter_crawler.api.v2.parse import (
    load_response,
    parse_timeline,
    parse_user_response,
    parse_users_page,
)
from twitter_crawler.api.v2.requests import TIMELINE_CAP, ApiV2, keep_count
from twitter_crawler.items import Edge, ref

SMALL = ("--followers", "37", "--followings", "14", "--tweets", "260", "--following-tweets", "9",
         "--protected-followings", "1", "--suspended-followings", "1", "--seed", "5", "--quotas", "off")


def crawl_v2(client: V2Client, handle: str, *, following_tweets: int = 5, limit: int | None = None,
             parts: tuple[str, ...] = ("user", "followers", "following", "timeline", "following_timelines"),
             ) -> tuple[dict[tuple, dict[str, Any]], Counter]:
    """Items by key, and what the walk met (requests per endpoint, skips)."""
    api = ApiV2(client.url)
    met: Counter = Counter()

    def get(request: Any) -> Any:
        met[request.meta["twitter_endpoint"]] += 1
        r = client.fetch(request)
        return load_response(r.status_code, r.content)

    me = parse_user_response(get(api.user(handle, print)), me_id=None)
    me.isMe = True
    items = Items(me.externalId)
    if "user" in parts:
        items.add(me)
    followings = []
    for kind, part in (("follower", "followers"), ("following", "following")):
        if part not in parts and not (kind == "following" and "following_timelines" in parts):
            continue
        walk: dict[str, Any] = {"me": me.externalId, "kind": kind, "user_id": me.externalId, "cursor": "-1",
                                "fetched": 0, "limit": limit, "strategy": "list"}
        while limit is None or walk["fetched"] < limit:
            page = parse_users_page(get(api.contacts(walk, print)), me_id=me.externalId)
            assert not page.errors and not page.skipped
            users = page.users if limit is None else page.users[: limit - walk["fetched"]]
            walk = {**walk, "fetched": walk["fetched"] + len(users), "cursor": page.next_cursor}
            for user in users:
                if part in parts:
                    items.add(user)
                    items.add(Edge(kind, ref("Account", me.externalId), ref("Account", user.externalId)))
                if kind == "following":
                    followings.append(user.externalId)
            if page.next_cursor == "0":
                break

    def timeline(user_id: str, wanted: int) -> None:
        walk: dict[str, Any] = {"me": me.externalId, "user_id": user_id, "wanted": wanted, "fetched": 0,
                                "since_id": None, "pagination_token": None}
        while walk["fetched"] < walk["wanted"]:
            page = parse_timeline(get(api.timeline(walk, print)), me_id=me.externalId, limit=keep_count(walk))
            assert not page.skipped, page.skipped
            if page.error is not None:
                assert page.error.kind == "not-authorized" and page.error.codes == (179,)
                met["protected"] += 1
                return
            for item in page.items:
                items.add(item)
            walk = {**walk, "fetched": walk["fetched"] + len(page.tweet_ids), "pagination_token": page.next_token}
            if not page.next_token:
                break

    if "timeline" in parts and limit != 0:
        timeline(me.externalId, min(TIMELINE_CAP, limit if limit is not None else TIMELINE_CAP))
    if "following_timelines" in parts and following_tweets:
        for user_id in followings:
            timeline(user_id, following_tweets)
    return items.by_key, met


@pytest.fixture(scope="module")
def small() -> Iterator[ServerProcess]:
    with running(*SMALL) as server:
        yield server


def compare(truth: dict[tuple, dict[str, Any]], crawled: dict[tuple, dict[str, Any]]) -> None:
    missing = truth.keys() - crawled.keys()
    extra = crawled.keys() - truth.keys()
    assert not missing and not extra, (sorted(missing)[:5], sorted(extra)[:5])
    # The truth says isMe false of the others; the parsers leave it out (None never erases).
    def comparable(props: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in props.items() if k != "isMe" or v}

    different = [k for k in truth if comparable(truth[k]) != comparable(crawled[k])]
    assert not different, [(truth[k], crawled[k]) for k in different[:3]]


def test_v2_crawl_equals_truth_api2(small: ServerProcess) -> None:
    with V2Client(small.url) as client:
        truth = keyed(client.control("truth", api="2", following_tweets=3)["items"])
        crawled, met = crawl_v2(client, "alice", following_tweets=3)
    compare(truth, crawled)
    # The walk met the 5-tweet minimum (3 kept of 5), a protected account and several pages.
    assert met["protected"] == 1 and met["users/tweets"] == 3 + 13 and met["users/by/username"] == 1
    kinds = Counter(d["type"] for d in truth.values())
    edges = Counter(d["name"] for d in truth.values() if d["type"] == "Edge")
    types = Counter(d["tweetType"] for d in truth.values() if d["type"] == "Tweet")
    assert {"Account", "Tweet", "Photo", "Video", "Website"} <= kinds.keys()
    assert {"tweet", "retweet", "quote", "reply"} <= types.keys()
    assert {"follower", "following", "author", "reference", "mention", "photo", "video", "link"} <= edges.keys()
    tweets = [d for d in truth.values() if d["type"] == "Tweet"]
    assert all("replyCount" in d and "conversationId" in d and "source" not in d for d in tweets)
    replies = [d for d in tweets if d["tweetType"] == "reply"]
    referenced = {d["source"]["externalId"] for d in truth.values() if d.get("name") == "reference"}
    assert any(d["externalId"] in referenced for d in replies)  # v2: replies reference their target
    minimal = [d for d in truth.values() if d["type"] == "Account" and "followersCount" not in d]
    assert any("displayName" in d for d in minimal) and any("displayName" not in d for d in minimal)


def test_v2_crawl_with_limit_oauth_and_own_parts(small: ServerProcess) -> None:
    with V2Client(small.url, oauth()) as client:
        truth = keyed(client.control("truth", api="2", limit=4, following_tweets=6)["items"])
        crawled, met = crawl_v2(client, "alice", limit=4, following_tweets=6)
        compare(truth, crawled)
        assert met["users/followers"] == 1 and met["users/tweets"] == 1 + 4  # one page each: 4 wanted
        own = keyed(client.control("truth", api="2", parts="user,timeline")["items"])
        crawled_own, met_own = crawl_v2(client, "alice", parts=("user", "timeline"))
        compare(own, crawled_own)
        assert met_own["users/tweets"] == 3  # 260 tweets, 100 a page


def test_v2_and_v1_truths_differ_only_where_the_versions_do(small: ServerProcess) -> None:
    with V2Client(small.url) as client:
        v1 = keyed(client.control("truth", api="1.1")["items"])
        v2 = keyed(client.control("truth", api="2")["items"])
        # Without api=, the truth is v2's: X's only self-serve API and the crawl's default.
        assert keyed(client.control("truth")["items"]) == v2
        world = client.control("world")
    accounts_v1 = {k: d for k, d in v1.items() if d["type"] == "Account" and "followersCount" in d}
    accounts_v2 = {k: d for k, d in v2.items() if d["type"] == "Account" and "followersCount" in d}
    both = accounts_v1.keys() & accounts_v2.keys()
    assert len(both) > 0.9 * len(accounts_v1)
    assert all(accounts_v2[k] == accounts_v1[k] for k in both)  # profiles are the same
    tweets_v1 = {k: d for k, d in v1.items() if d["type"] == "Tweet"}
    tweets_v2 = {k: d for k, d in v2.items() if d["type"] == "Tweet"}
    own = [k for k in tweets_v1 if k in tweets_v2]
    for k in own:
        a, b = dict(tweets_v1[k]), dict(tweets_v2[k])
        v2_only = ("replyCount", "conversationId", "quoteCount", "bookmarkCount", "impressionCount")
        assert "source" in a and "source" not in b and all(name in b for name in v2_only)
        a.pop("source")
        for name in v2_only:
            b.pop(name)
        if a["message"] != b["message"]:  # a quote, or a retweet of one: v2 keeps the permalink
            assert a["tweetType"] in ("quote", "retweet")
            assert b["message"].startswith(a["message"] + " https://t.co/")
            b["message"] = a["message"]
        assert a == b
    # The timelines' own tweets are in both; v2 adds replied-to tweets, v1.1 retweeted quotes' quotes.
    follower_edges = [d for d in v2.values() if d.get("name") == "follower"]
    assert len(follower_edges) == world["counts"]["followers"]
    assert set(tweets_v2) - set(tweets_v1) and set(tweets_v1) - set(tweets_v2)


def test_truth_api_parameter_and_v2_source_option() -> None:
    with running("--followers", "4", "--followings", "3", "--tweets", "30", "--following-tweets", "2",
                 "--v2-source", "--quotas", "off", "--seed", "2") as server, V2Client(server.url) as client:
        truth = keyed(client.control("truth", api="2")["items"])
        assert all("source" in d for d in truth.values() if d["type"] == "Tweet")
        crawled, _ = crawl_v2(client, "alice")
        compare(truth, crawled)
        r = client.session.get(f"{server.url}/_emulator/truth", params={"api": "3"}, timeout=30)
        assert r.status_code == 400 and "api" in r.json()["error"]


def test_v2_crawl_of_the_shared_world_hits_the_cap(emulator: ServerProcess, world: dict) -> None:
    with V2Client(emulator.url) as client:
        truth = keyed(client.control("truth", api="2")["items"])
        crawled, met = crawl_v2(client, "alice")
    compare(truth, crawled)
    own = [d for d in truth.values() if d.get("name") == "author" and d["target"]["externalId"] == world["user_id"]]
    assert len(own) >= 3200 and met["users/tweets"] == 32 + 58 and met["protected"] == 2


def test_incremental_walk_with_since_id() -> None:
    with running(*SMALL) as server, V2Client(server.url) as client:
        api = ApiV2(server.url)
        me = server.get_json("/_emulator/world")["user_id"]
        walk = {"me": me, "user_id": me, "wanted": TIMELINE_CAP, "fetched": 0}
        newest = parse_timeline(load_response(200, client.fetch(api.timeline(walk, print)).content)).max_id
        server.post_json("/_emulator/mutate", {"new_tweets": 7})
        walk = {**walk, "since_id": newest}
        pages = []
        while True:
            r = client.fetch(api.timeline(walk, print))
            pages.append(parse_timeline(load_response(r.status_code, r.content), me_id=me, limit=keep_count(walk)))
            walk = {**walk, "fetched": walk["fetched"] + len(pages[-1].tweet_ids),
                    "pagination_token": pages[-1].next_token}
            if not pages[-1].next_token:
                break
        new = [tid for page in pages for tid in page.tweet_ids]
        assert len(new) == 7 and all(int(tid) > int(newest) for tid in new) and len(pages) == 1
        walk = {"me": me, "user_id": me, "wanted": TIMELINE_CAP, "fetched": 0, "since_id": max(new, key=int)}
        r = client.fetch(api.timeline(walk, print))
        assert r.json() == {"meta": {"result_count": 0}}
        empty = parse_timeline(load_response(r.status_code, r.content))
        assert (empty.items, empty.tweet_ids, empty.next_token, empty.error) == ([], [], None, None)
