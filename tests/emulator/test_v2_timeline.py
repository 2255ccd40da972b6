"""/2/users/:id/tweets over real HTTP: paging, the 3,200 cap, since_id/until_id, fields, includes."""

from __future__ import annotations

import html
from collections.abc import Iterator
from typing import Any

import pytest

from tests.emulator.conftest import Client
from tests.emulator.refcrawl import walk_timeline
from tests.emulator.test_v2_client import V2Client
from tests.support.servers import ServerProcess
from twitter_crawler.api.v2.requests import EXPANSIONS, MEDIA_FIELDS, TWEET_FIELDS, USER_FIELDS

FULL = {"tweet.fields": TWEET_FIELDS, "expansions": EXPANSIONS, "media.fields": MEDIA_FIELDS,
        "user.fields": USER_FIELDS}


@pytest.fixture()
def v2(emulator: ServerProcess) -> Iterator[V2Client]:
    with V2Client(emulator.url) as client:
        yield client


@pytest.fixture(scope="module")
def alice_id(emulator: ServerProcess) -> str:
    return emulator.get_json("/_emulator/world")["user_id"]


def walk(v2: V2Client, user_id: str, max_results: int = 100, **params: Any) -> tuple[list[dict], list[dict]]:
    """Every page of a pagination_token walk: (tweets, metas)."""
    tweets: list[dict] = []
    metas: list[dict] = []
    token = None
    while True:
        extra = {"pagination_token": token} if token else {}
        r = v2.get(f"users/{user_id}/tweets", max_results=max_results, **params, **extra)
        assert r.status_code == 200, r.text
        page = r.json()
        metas.append(page["meta"])
        tweets += page.get("data", [])
        token = page["meta"].get("next_token")
        if not token:
            return tweets, metas


def test_pagination_walk_returns_the_3200_newest_once(v2: V2Client, alice_id: str, client: Client) -> None:
    tweets, metas = walk(v2, alice_id)
    ids = [int(t["id"]) for t in tweets]
    assert len(ids) == len(set(ids)) == 3200 and ids == sorted(ids, reverse=True)
    assert len(metas) == 32 and all(m["result_count"] == 100 for m in metas)
    assert all(m["newest_id"] == str(max(ids[i * 100:(i + 1) * 100])) for i, m in enumerate(metas))
    assert all(m["oldest_id"] == str(min(ids[i * 100:(i + 1) * 100])) for i, m in enumerate(metas))
    assert "next_token" not in metas[-1]
    # the same tweets, in the same order, as v1.1's user_timeline
    assert [t["id_str"] for t in walk_timeline(client, screen_name="alice")] == [str(i) for i in ids]
    # default fields only: id, text, edit_history_tweet_ids
    assert all(set(t) == {"id", "text", "edit_history_tweet_ids"} for t in tweets)
    # until_id (exclusive) pages as well, and past the cap there is nothing
    r = v2.get(f"users/{alice_id}/tweets", max_results=5, until_id=str(ids[-1]))
    assert r.json() == {"meta": {"result_count": 0}}


def test_since_id_and_until_id_are_exclusive(v2: V2Client, alice_id: str) -> None:
    newest = v2.get(f"users/{alice_id}/tweets", max_results=50).json()["data"]
    ids = [t["id"] for t in newest]
    page = v2.get(f"users/{alice_id}/tweets", max_results=100, since_id=ids[40], until_id=ids[10]).json()
    assert [t["id"] for t in page["data"]] == ids[11:40]
    assert v2.get(f"users/{alice_id}/tweets", since_id=ids[0]).json() == {"meta": {"result_count": 0}}
    # since_id + pagination_token in steps of 7 sees each tweet once, then ends without a token
    tweets, metas = walk(v2, alice_id, max_results=7, since_id=ids[40])
    assert [t["id"] for t in tweets] == ids[:40]
    assert [m["result_count"] for m in metas] == [7] * 5 + [5]


def test_start_and_end_time(v2: V2Client, alice_id: str) -> None:
    page = v2.get(f"users/{alice_id}/tweets", max_results=20, **{"tweet.fields": "created_at"}).json()["data"]
    newest, older = page[2]["created_at"], page[12]["created_at"]
    got = v2.get(f"users/{alice_id}/tweets", max_results=100, start_time=older.replace(".000", ""),
                 end_time=newest.replace(".000", "")).json()["data"]
    assert [t["id"] for t in got] == [t["id"] for t in page[3:13]]  # start inclusive, end exclusive
    bad = v2.get(f"users/{alice_id}/tweets", start_time="yesterday")
    assert bad.status_code == 400 and bad.json()["type"].endswith("/invalid-request")


def test_exclude_retweets_and_replies(v2: V2Client, alice_id: str) -> None:
    fields = {"tweet.fields": "referenced_tweets"}
    everything, _ = walk(v2, alice_id, max_results=100, **fields)
    kinds = [{r["type"] for r in t.get("referenced_tweets", [])} for t in everything[:300]]
    assert any("retweeted" in k for k in kinds) and any("replied_to" in k for k in kinds)
    page = v2.get(f"users/{alice_id}/tweets", max_results=100, exclude="retweets,replies", **fields).json()
    assert page["meta"]["result_count"] == 100 and "next_token" in page["meta"]
    assert all(not {"retweeted", "replied_to"} & {r["type"] for r in t.get("referenced_tweets", [])}
               for t in page["data"])
    expected = [t["id"] for t, k in zip(everything, kinds, strict=False) if not {"retweeted", "replied_to"} & k][:100]
    assert [t["id"] for t in page["data"]] == expected


def test_fields_and_expansions_fill_every_property(v2: V2Client, alice_id: str) -> None:
    tweets, includes = [], {"users": {}, "tweets": {}, "media": {}}
    token = None
    for _ in range(6):
        extra = {"pagination_token": token} if token else {}
        page = v2.get(f"users/{alice_id}/tweets", max_results=100, **FULL, **extra).json()
        tweets += page["data"]
        for kind, objs in page["includes"].items():
            key = "media_key" if kind == "media" else "id"
            includes[kind].update({o[key]: o for o in objs})
        token = page["meta"]["next_token"]
        # everything a data tweet names is in the same page's includes
        users = {u["id"] for u in page["includes"]["users"]}
        included = {t["id"]: t for t in page["includes"]["tweets"]}
        media = {m["media_key"] for m in page["includes"].get("media", [])}
        for t in page["data"]:
            assert t["author_id"] in users
            assert {m["id"] for m in t.get("entities", {}).get("mentions", [])} <= users
            for r in t.get("referenced_tweets", []):
                assert r["id"] in included and included[r["id"]]["author_id"] in users
            assert set(t.get("attachments", {}).get("media_keys", [])) <= media
    for t in tweets:
        assert {"author_id", "conversation_id", "created_at", "lang", "public_metrics"} <= t.keys()
        assert t["created_at"].endswith(".000Z") and "source" not in t  # v2 dropped source
        metrics = t["public_metrics"]
        assert set(metrics) == {"retweet_count", "reply_count", "like_count", "quote_count",
                                "bookmark_count", "impression_count"}
        # plausible: every tweet but a retweet is seen, by more than engaged with it
        if not t.get("referenced_tweets", [{}])[0].get("type") == "retweeted":
            assert metrics["impression_count"] > metrics["like_count"] + metrics["retweet_count"]
            assert metrics["bookmark_count"] <= metrics["like_count"]
    retweets = [t for t in tweets if t.get("referenced_tweets", [{}])[0].get("type") == "retweeted"]
    quotes = [t for t in tweets if any(r["type"] == "quoted" for r in t.get("referenced_tweets", []))]
    replies = [t for t in tweets if any(r["type"] == "replied_to" for r in t.get("referenced_tweets", []))]
    assert retweets and quotes and replies
    for t in retweets:
        orig = includes["tweets"][t["referenced_tweets"][0]["id"]]
        author = includes["users"][orig["author_id"]]["username"]
        assert t["text"].startswith(f"RT @{author}: ") and len(html.unescape(t["text"])) <= 140
        assert t["conversation_id"] == t["id"] and t["public_metrics"]["reply_count"] == 0
        assert t["public_metrics"]["bookmark_count"] == t["public_metrics"]["impression_count"] == 0
        assert t.get("attachments") == orig.get("attachments")  # a retweet names its original's media
        assert len(t["referenced_tweets"]) == 1
    for t in quotes:
        qid = next(r["id"] for r in t["referenced_tweets"] if r["type"] == "quoted")
        permalink = t["entities"]["urls"][-1]
        assert permalink["expanded_url"].endswith(f"/status/{qid}") and t["text"].endswith(permalink["url"])
    for t in replies:
        target = includes["tweets"][next(r["id"] for r in t["referenced_tweets"] if r["type"] == "replied_to")]
        assert t["in_reply_to_user_id"] == target["author_id"]
        assert t["conversation_id"] == target["conversation_id"]
    assert any("&amp;" in t["text"] or "&lt;" in t["text"] or "&gt;" in t["text"] for t in tweets)
    mentions = [m for t in tweets for m in t.get("entities", {}).get("mentions", [])]
    assert mentions and all(set(m) == {"start", "end", "username", "id"} for m in mentions)
    # without the entities.mentions.username expansion, mentions carry no id and includes no users
    bare = v2.get(f"users/{alice_id}/tweets", max_results=100, **{"tweet.fields": "entities"}).json()
    bare_mentions = [m for t in bare["data"] for m in t.get("entities", {}).get("mentions", [])]
    assert bare_mentions and all("id" not in m for m in bare_mentions) and "includes" not in bare
    kinds = {m["type"] for m in includes["media"].values()}
    assert kinds == {"photo", "video", "animated_gif"}
    for m in includes["media"].values():
        prefix = {"photo": "3_", "video": "7_", "animated_gif": "16_"}[m["type"]]
        assert m["media_key"].startswith(prefix) and m["width"] > 0 and m["height"] > 0
        if m["type"] == "photo":
            # --media local (the default) serves media at http://HOST:MEDIAPORT/pbs.twimg.com/...
            assert "/pbs.twimg.com/media/" in m["url"] and "variants" not in m
        else:
            assert "/pbs.twimg.com/" in m["preview_image_url"] and "url" not in m
            mp4 = [v for v in m["variants"] if v["content_type"] == "video/mp4"]
            assert mp4 and all("bit_rate" in v for v in mp4)
            assert ("duration_ms" in m) is (m["type"] == "video")
    for u in includes["users"].values():
        assert {"created_at", "description", "location", "profile_image_url", "protected", "public_metrics",
                "url", "verified"} <= u.keys()
        assert ("entities" in u) is (u["url"] != "")


def test_protected_and_unknown_accounts(v2: V2Client, world: dict, client: Client) -> None:
    for name in world["protected"]:
        uid = client.get("users/show", screen_name=name).json()["id_str"]
        r = v2.get(f"users/{uid}/tweets", max_results=5)
        assert r.status_code == 200
        assert r.json() == {"errors": [{
            "detail": f"Sorry, you are not authorized to see the user with id: [{uid}].", "parameter": "id",
            "resource_id": uid, "resource_type": "user", "section": "data", "title": "Authorization Error",
            "type": "https://api.twitter.com/2/problems/not-authorized-for-resource", "value": uid}]}
    r = v2.get("users/12345678901234567/tweets")
    assert r.status_code == 200 and r.json()["errors"][0]["detail"] == "Could not find user with id: [12345678901234567]."
    for value, message in (("4", "is not between 5 and 100"), ("101", "is not between 5 and 100")):
        bad = v2.get(f"users/{world['user_id']}/tweets", max_results=value)
        assert bad.status_code == 400
        assert bad.json()["errors"] == [{"parameters": {"max_results": [value]},
                                         "message": f"The `max_results` query parameter value [{value}] {message}"}]
    for name in ("since_id", "until_id"):
        bad = v2.get(f"users/{world['user_id']}/tweets", **{name: "abc"})
        assert bad.status_code == 400 and bad.json()["title"] == "Invalid Request"
    bad = v2.get(f"users/{world['user_id']}/tweets", pagination_token="nonsense")
    assert bad.status_code == 400 and "pagination_token" in bad.json()["errors"][0]["parameters"]
