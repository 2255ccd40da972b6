"""The ground truth equals what a straightforward crawl of the served payloads exports."""

from __future__ import annotations

from collections import Counter
from typing import Any

from tests.emulator.conftest import Client
from tests.emulator.refcrawl import crawl
from twitter_crawler.items import Account, Edge, Photo, Tweet, Video, Website, item_key


def keyed(items: list[dict[str, Any]]) -> dict[tuple, dict[str, Any]]:
    classes = {"Account": Account, "Tweet": Tweet, "Photo": Photo, "Video": Video, "Website": Website, "Edge": Edge}
    out: dict[tuple, dict[str, Any]] = {}
    for d in items:
        cls = classes[d["type"]]
        obj = cls(**{k: v for k, v in d.items() if k != "type"})
        key = item_key(obj)
        assert key not in out, f"truth lists {key} twice"
        out[key] = d
    return out


def test_truth_equals_a_reference_crawl(client: Client, world: dict) -> None:
    truth = keyed(client.control("truth", handle="alice", following_tweets=5, api="1.1")["items"])
    crawled = crawl(client, "alice", following_tweets=5)
    missing = truth.keys() - crawled.keys()
    extra = crawled.keys() - truth.keys()
    assert not missing and not extra, (sorted(missing)[:5], sorted(extra)[:5])
    different = [k for k in truth if truth[k] != crawled[k]]
    assert not different, [(truth[k], crawled[k]) for k in different[:3]]
    kinds = Counter(d["type"] for d in truth.values())
    tweet_types = Counter(d["tweetType"] for d in truth.values() if d["type"] == "Tweet")
    edges = Counter(d["name"] for d in truth.values() if d["type"] == "Edge")
    # The shared world exercises every kind of item and edge.
    assert {"Account", "Tweet", "Photo", "Video", "Website", "Edge"} <= kinds.keys()
    assert {"tweet", "retweet", "quote", "reply"} <= tweet_types.keys()
    assert {"follower", "following", "author", "reference", "mention", "photo", "video", "link"} <= edges.keys()
    assert edges["follower"] == world["counts"]["followers"]
    assert edges["following"] == world["counts"]["followings"]
    me = [d for d in truth.values() if d.get("isMe")]
    assert [d["handle"] for d in me] == ["alice"]
    accounts = [d for d in truth.values() if d["type"] == "Account"]
    assert all(d["isMe"] is (d["handle"] == "alice") for d in accounts if "followersCount" in d)
    assert all("isMe" not in d for d in accounts if "followersCount" not in d)  # minimal mentions
    gifs = [d for d in truth.values() if d["type"] == "Video" and d["isGif"]]
    assert gifs and all("durationMs" not in d for d in gifs)


def test_truth_parts_and_limit(client: Client) -> None:
    items = client.control("truth", handle="alice", parts="followers", limit=7)["items"]
    assert Counter(d["type"] for d in items) == {"Account": 7, "Edge": 7}
    own = client.control("truth", parts="user,timeline", limit=30)["items"]
    tweets_by_me = [d for d in own if d["type"] == "Edge" and d["name"] == "author"
                    and d["target"]["externalId"] == next(x["externalId"] for x in own if x.get("isMe"))]
    assert len(tweets_by_me) == 30
    assert client.control("truth", handle="nobody_here")["items"] == []
