"""twitter_crawler.api.v2.requests: URLs, parameters, meta and walks, the same contract as ApiV1."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from scrapy.utils.request import request_from_dict

from twitter_crawler.api import TwitterApi
from twitter_crawler.api.v1.requests import ApiV1
from twitter_crawler.api.v2.requests import (
    APP_QUOTAS,
    EXPANSIONS,
    MEDIA_FIELDS,
    QUOTAS,
    TWEET_FIELDS,
    USER_FIELDS,
    ApiV2,
    choose_strategy,
    keep_count,
)
from twitter_crawler.exceptions import NotInThisVersion


def callback(response, **kwargs):  # noqa: ANN001, ANN201 - a stand-in callback
    return None


def errback(failure):  # noqa: ANN001, ANN201 - a stand-in errback
    return None


def query(request) -> dict[str, str]:  # noqa: ANN001
    return {k: v[0] for k, v in parse_qs(urlsplit(request.url).query).items()}


def test_same_methods_and_meta_as_v1() -> None:
    api = ApiV2("http://127.0.0.1:8080/")
    assert api.version == "2"
    assert isinstance(api, TwitterApi) and issubclass(ApiV1, TwitterApi)  # one contract
    for name in ("user", "contacts", "timeline"):
        assert callable(getattr(api, name)) and callable(getattr(ApiV1, name))
    # v2 lists full users: no lookup step, and no strategy that would need one
    assert api.lookup_endpoint is None
    with pytest.raises(NotInThisVersion):
        api.lookup(["1"], {}, callback)
    assert api.contacts_strategies(10**6, 10**6, None, "ids") == {"follower": "list", "following": "list"}
    r = api.user("alice", callback)
    assert r.url.startswith("http://127.0.0.1:8080/2/users/by/username/alice?")
    assert r.meta == {"twitter_endpoint": "users/by/username", "download_slot": "users/by/username"}
    assert r.priority == 100 and r.method == "GET" and r.callback is callback and r.errback is None
    assert api.user("alice", callback, errback).errback is errback
    fields = set(query(r)["user.fields"].split(","))
    assert fields == {"created_at", "description", "entities", "id", "location", "name", "profile_image_url",
                      "protected", "public_metrics", "url", "username", "verified"}
    assert set(query(r)) == {"user.fields"}


def test_contacts_pages() -> None:
    api = ApiV2("https://api.twitter.com")
    walk = {"me": "1", "kind": "follower", "user_id": "1", "cursor": "-1", "fetched": 0, "limit": None,
            "strategy": "ids"}  # the strategy does not matter in v2
    first = api.contacts(walk, callback)
    assert urlsplit(first.url).path == "/2/users/1/followers"
    assert query(first) == {"max_results": "1000", "user.fields": USER_FIELDS}
    assert first.meta["twitter_endpoint"] == "users/followers" and first.priority == 50
    assert first.cb_kwargs == {"walk": walk}
    # the position: pagination_token, or v1.1's cursor key as an alias ("-1"/"0": none)
    nxt = api.contacts({**walk, "kind": "following", "cursor": "5CS0O0C6II61EZZZ"}, callback)
    assert urlsplit(nxt.url).path == "/2/users/1/following" and nxt.meta["download_slot"] == "users/following"
    assert query(nxt)["pagination_token"] == "5CS0O0C6II61EZZZ"
    assert query(api.contacts({**walk, "pagination_token": "T", "cursor": "X"}, callback))["pagination_token"] == "T"
    # a limit makes the last page no larger than needed
    assert query(api.contacts({**walk, "limit": 1500, "fetched": 1000}, callback))["max_results"] == "500"
    assert query(api.contacts({**walk, "limit": 7}, callback))["max_results"] == "7"


def test_timeline_pages() -> None:
    api = ApiV2("https://api.twitter.com")
    walk = {"me": "1", "user_id": "42", "wanted": 3200, "fetched": 0, "since_id": None, "max_id": None,
            "newest": None, "own": True, "first": True}
    r = api.timeline(walk, callback)
    q = query(r)
    assert urlsplit(r.url).path == "/2/users/42/tweets"
    assert r.meta == {"twitter_endpoint": "users/tweets", "download_slot": "users/tweets"} and r.priority == 30
    assert q == {"max_results": "100", "tweet.fields": TWEET_FIELDS, "expansions": EXPANSIONS,
                 "media.fields": MEDIA_FIELDS, "user.fields": USER_FIELDS}
    assert set(q["expansions"].split(",")) == {"attachments.media_keys", "author_id", "entities.mentions.username",
                                               "referenced_tweets.id", "referenced_tweets.id.author_id"}
    assert {"conversation_id", "public_metrics", "referenced_tweets", "source", "entities", "attachments"} <= set(
        q["tweet.fields"].split(","))
    assert set(q["media.fields"].split(",")) == {"duration_ms", "height", "media_key", "preview_image_url", "type",
                                                 "url", "variants", "width"}
    # fewer wanted than the minimum of 5: ask for 5, keep what is wanted
    few = {**walk, "wanted": 5, "fetched": 3, "own": False, "since_id": "77"}
    q = query(api.timeline(few, callback))
    assert (q["max_results"], q["since_id"], keep_count(few)) == ("5", "77", 2)
    assert api.timeline(few, callback).priority == 10
    assert query(api.timeline({**walk, "wanted": 250, "fetched": 200}, callback))["max_results"] == "50"
    # paging: pagination_token, else v1.1's inclusive max_id as v2's exclusive until_id
    q = query(api.timeline({**walk, "pagination_token": "7140dibx", "max_id": "99"}, callback))
    assert q["pagination_token"] == "7140dibx" and "until_id" not in q
    q = query(api.timeline({**walk, "max_id": "1577730467436138523"}, callback))
    assert q["until_id"] == "1577730467436138524" and "pagination_token" not in q


def test_requests_survive_a_jobdir_round_trip() -> None:
    api = ApiV2("https://api.twitter.com")

    class Spider:
        def parse_timeline(self, response, walk):  # noqa: ANN001, ANN201
            return None

    spider = Spider()
    walk = {"me": "1", "user_id": "42", "wanted": 5, "fetched": 0, "pagination_token": "t"}
    r = api.timeline(walk, spider.parse_timeline)
    again = request_from_dict(r.to_dict(spider=spider), spider=spider)
    assert (again.url, again.cb_kwargs, again.meta, again.priority) == (r.url, r.cb_kwargs, r.meta, r.priority)


def test_quotas_and_strategy() -> None:
    assert QUOTAS == {"users/by/username": 900, "users/followers": 15, "users/following": 15, "users/tweets": 900}
    assert APP_QUOTAS == {"users/by/username": 300, "users/followers": 15, "users/following": 15,
                          "users/tweets": 1500}
    assert choose_strategy(100_000, 5, None) == {"follower": "list", "following": "list"}
