"""A deliberately plain reference crawl for the tests: walks the v1.1 API the way PRODUCT.md §3
describes and turns payloads into items by the rules of ``twitter_crawler.items``.

It shares no code with the emulator, so agreeing with ``/_emulator/truth`` shows that what
the emulator serves and what its ground truth claims are the same world.
"""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime
from typing import Any

from tests.emulator.conftest import Client
from twitter_crawler.items import (
    Account,
    Edge,
    Photo,
    Tweet,
    Video,
    Website,
    item_key,
    ref,
    to_dict,
)

_TAG = re.compile(r"<[^>]+>")


def iso(created_at: str) -> str:
    return datetime.strptime(created_at, "%a %b %d %H:%M:%S %z %Y").astimezone(UTC).strftime(
        "%Y-%m-%dT%H:%M:%SZ")


class Items:
    """Upserts by key, as the store does: later non-None values win."""

    def add(self, item: Any) -> None:
        d = to_dict(item)
        key = item_key(item)
        if key in self.by_key:
            self.by_key[key].update(d)
        else:
            self.by_key[key] = d

    def __init__(self, me_id: str = "") -> None:
        self.by_key: dict[tuple, dict[str, Any]] = {}
        self.me_id = me_id

    def account(self, user: dict[str, Any]) -> str:
        urls = ((user.get("entities") or {}).get("url") or {}).get("urls") or []
        self.add(Account(
            externalId=user["id_str"], handle=user["screen_name"], displayName=user["name"],
            description=user.get("description"), location=user.get("location"),
            url=urls[0]["expanded_url"] if urls else None, avatarUrl=user.get("profile_image_url_https"),
            followersCount=user.get("followers_count"), followingCount=user.get("friends_count"),
            tweetCount=user.get("statuses_count"), listedCount=user.get("listed_count"),
            verified=user.get("verified"), protected=user.get("protected"), dateJoined=iso(user["created_at"]),
            isMe=user["id_str"] == self.me_id,  # known for every full account
        ))
        return user["id_str"]

    def edge(self, name: str, src: tuple[str, str], dst: tuple[str, str]) -> None:
        self.add(Edge(name=name, source=ref(*src), target=ref(*dst)))

    def tweet(self, t: dict[str, Any]) -> str:
        tid = t["id_str"]
        rt = t.get("retweeted_status")
        text_of = rt or t
        kind = "retweet" if rt else "quote" if t.get("is_quote_status") else (
            "reply" if t.get("in_reply_to_status_id_str") else "tweet")
        self.add(Tweet(
            externalId=tid, message=html.unescape(text_of.get("full_text") or text_of["text"]),
            postDate=iso(t["created_at"]), tweetType=kind, lang=t.get("lang"),
            source=_TAG.sub("", t.get("source") or "") or None, retweetCount=t.get("retweet_count"),
            likeCount=t.get("favorite_count"), inReplyToId=t.get("in_reply_to_status_id_str"),
        ))
        self.edge("author", ("Tweet", tid), ("Account", self.account(t["user"])))
        if rt:
            self.edge("reference", ("Tweet", tid), ("Tweet", self.tweet(rt)))
            return tid
        if t.get("quoted_status"):
            self.edge("reference", ("Tweet", tid), ("Tweet", self.tweet(t["quoted_status"])))
        ent = t.get("entities") or {}
        for m in ent.get("user_mentions", []):
            self.add(Account(externalId=m["id_str"], handle=m["screen_name"], displayName=m["name"]))
            self.edge("mention", ("Tweet", tid), ("Account", m["id_str"]))
        for u in ent.get("urls", []):
            self.add(Website(url=u["expanded_url"], displayUrl=u["display_url"]))
            self.edge("link", ("Tweet", tid), ("Website", u["expanded_url"]))
        for m in (t.get("extended_entities") or ent).get("media", []):
            if m["type"] == "photo":
                large = m["sizes"]["large"]
                self.add(Photo(externalId=m["id_str"], url=m["media_url_https"], width=large["w"], height=large["h"]))
                self.edge("photo", ("Tweet", tid), ("Photo", m["id_str"]))
            else:
                info = m["video_info"]
                mp4 = [v for v in info["variants"] if v["content_type"] == "video/mp4"]
                best = max(mp4, key=lambda v: v.get("bitrate", 0))["url"]
                self.add(Video(externalId=m["id_str"], url=best, thumbnailUrl=m["media_url_https"],
                               durationMs=info.get("duration_millis"), isGif=m["type"] == "animated_gif"))
                self.edge("video", ("Tweet", tid), ("Video", m["id_str"]))
        return tid


def walk_list(client: Client, endpoint: str, key: str, **params: Any) -> list[Any]:
    out: list[Any] = []
    cursor = "-1"
    while cursor != "0":
        r = client.get(endpoint, cursor=cursor, **params)
        assert r.status_code == 200, r.text
        page = r.json()
        out += page[key]
        cursor = page["next_cursor_str"]
    return out


def walk_timeline(client: Client, count: int = 200, limit: int | None = None, **params: Any) -> list[dict]:
    """max_id = lowest id seen - 1, until an empty page (or ``limit`` tweets)."""
    out: list[dict] = []
    max_id: int | None = None
    while limit is None or len(out) < limit:
        want = count if limit is None else min(count, limit - len(out))
        extra = {"max_id": str(max_id)} if max_id is not None else {}
        r = client.get("statuses/user_timeline", count=want, tweet_mode="extended", **extra, **params)
        assert r.status_code == 200, r.text
        page = r.json()
        if not page:
            break
        out += page
        max_id = min(int(t["id_str"]) for t in page) - 1
    return out


def crawl(client: Client, handle: str, following_tweets: int = 5) -> dict[tuple, dict[str, Any]]:
    me = client.get("users/show", screen_name=handle).json()
    items = Items(me["id_str"])
    me_id = items.account(me)
    for user in walk_list(client, "followers/list", "users", screen_name=handle, count=200, skip_status="true"):
        items.edge("follower", ("Account", me_id), ("Account", items.account(user)))
    followings = walk_list(client, "friends/list", "users", screen_name=handle, count=200, skip_status="true")
    for user in followings:
        items.edge("following", ("Account", me_id), ("Account", items.account(user)))
    for t in walk_timeline(client, screen_name=handle):
        items.tweet(t)
    for user in followings:
        r = client.get("statuses/user_timeline", user_id=user["id_str"], count=following_tweets, tweet_mode="extended")
        if r.status_code == 401:
            continue  # protected: skipped, profile kept
        assert r.status_code == 200, r.text
        for t in r.json():
            items.tweet(t)
    return items.by_key
