"""World objects -> API v2 JSON: users, tweets, media and the ``includes`` of a page.

Only the fields a request asks for are sent (``user.fields``, ``tweet.fields``,
``media.fields``; ``id``/``name``/``username``, ``id``/``text``/``edit_history_tweet_ids`` and
``media_key``/``type`` always), and only the expansions it asks for fill ``includes``, as v2
does; a mention entity carries the user's ``id`` only with the ``entities.mentions.username``
expansion. Texts are HTML-escaped (``&amp;``, ``&lt;``, ``&gt;``), as in v1.1. Dates are
``2022-10-01T00:00:00.000Z``.

v2-only facts (the v2 text, reply and quote counts, conversation ids, media keys) come from
:mod:`twitter_emulator.v2model`.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from twitter_emulator import v2model
from twitter_emulator.serialize import escape
from twitter_emulator.tweets import TCO, Media, TweetModel

if TYPE_CHECKING:
    from twitter_emulator.world import World

logger = logging.getLogger(__name__)


def iso_ms(ms: int) -> str:
    """``2016-07-30T03:20:23.000Z``: v2 dates (whole seconds, as Twitter sends them)."""
    return datetime.fromtimestamp(ms // 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


class V2Renderer:
    """Builds v2 JSON for one request, with the fields and expansions it asked for."""

    def __init__(
        self,
        world: World,
        *,
        user_fields: frozenset[str] = frozenset(),
        tweet_fields: frozenset[str] = frozenset(),
        media_fields: frozenset[str] = frozenset(),
        expansions: frozenset[str] = frozenset(),
        source: bool = False,
    ) -> None:
        self.world = world
        self.user_fields = user_fields
        self.tweet_fields = tweet_fields
        self.media_fields = media_fields
        self.expansions = expansions
        self.source = source  # serve tweet.fields=source (v2 dropped it for most apps)
        self._users: dict[int, dict[str, Any]] = {}

    # -- users --------------------------------------------------------------------------------

    def user(self, slot: int) -> dict[str, Any]:
        cached = self._users.get(slot)
        if cached is None:
            cached = self._users[slot] = self._user(slot)
        return cached

    def _user(self, slot: int) -> dict[str, Any]:
        w = self.world
        a = w.account(slot)
        f = self.user_fields
        d: dict[str, Any] = {"id": str(a.id), "name": a.name, "username": a.screen_name}
        if "created_at" in f:
            d["created_at"] = iso_ms(a.created_ms)
        if "description" in f:
            d["description"] = a.description
        if "entities" in f and a.url and a.url_tco:
            display = a.url.removeprefix("https://").removeprefix("www.")
            d["entities"] = {"url": {"urls": [{"start": 0, "end": len(a.url_tco), "url": a.url_tco,
                                               "expanded_url": a.url, "display_url": display}]}}
        if "location" in f and a.location:
            d["location"] = a.location
        if "most_recent_tweet_id" in f and not a.protected and w.timeline_len(slot):
            d["most_recent_tweet_id"] = str(w.tweet_id(slot, w.timeline_len(slot) - 1))
        if "profile_banner_url" in f and a.banner:
            d["profile_banner_url"] = a.banner
        if "profile_image_url" in f:
            d["profile_image_url"] = a.avatar
        if "protected" in f:
            d["protected"] = a.protected
        if "public_metrics" in f:
            d["public_metrics"] = {
                "followers_count": a.followers_count,
                "following_count": a.friends_count,
                "tweet_count": a.statuses_count,
                "listed_count": a.listed_count,
                "like_count": a.favourites_count,
            }
        if "url" in f:
            d["url"] = a.url_tco or ""  # v2 sends "" for a profile without a link
        if "verified" in f:
            d["verified"] = a.verified
        if "verified_type" in f:
            d["verified_type"] = "blue" if a.verified else "none"
        return d

    # -- tweets -------------------------------------------------------------------------------

    def tweet(self, t: TweetModel) -> dict[str, Any]:
        w = self.world
        f = self.tweet_fields
        v = v2model.view(w, t)
        tid = str(t.id)
        d: dict[str, Any] = {"edit_history_tweet_ids": [tid], "id": tid, "text": escape(v.text)}
        if "attachments" in f:
            media = v2model.attachments(w, t)
            if media:
                d["attachments"] = {"media_keys": [v2model.media_key(m) for m in media]}
        if "author_id" in f:
            d["author_id"] = str(w.user_id(t.slot))
        if "conversation_id" in f:
            d["conversation_id"] = str(v2model.conversation_id(w, t))
        if "created_at" in f:
            d["created_at"] = iso_ms(t.ms)
        if "entities" in f:
            entities = self._entities(v)
            if entities:
                d["entities"] = entities
        if "in_reply_to_user_id" in f and t.reply_to and not t.retweeted:
            d["in_reply_to_user_id"] = str(w.user_id(t.reply_to[0]))
        if "lang" in f:
            d["lang"] = t.lang
        if "possibly_sensitive" in f:
            d["possibly_sensitive"] = False
        if "public_metrics" in f:
            d["public_metrics"] = {
                "retweet_count": t.retweet_count,
                "reply_count": v2model.reply_count(w, t),
                "like_count": t.favorite_count,
                "quote_count": v2model.quote_count(w, t),
                "bookmark_count": v2model.bookmark_count(w, t),
                "impression_count": v2model.impression_count(w, t),
            }
        refs = v2model.references(t)
        if "referenced_tweets" in f and refs:
            d["referenced_tweets"] = [{"type": kind, "id": str(w.tweet_id(*target))}
                                      for kind, target in refs]
        if "reply_settings" in f:
            d["reply_settings"] = "everyone"
        if "source" in f and self.source:
            d["source"] = t.source[0]
        return d

    def _entities(self, v: v2model.View) -> dict[str, Any]:
        w = self.world
        out: dict[str, Any] = {}
        if v.hashtags:
            out["hashtags"] = [{"start": x.start, "end": x.end, "tag": x.text} for x in v.hashtags]
        if v.mentions:
            # The mentioned user's id comes with the entities.mentions.username expansion only.
            with_id = "entities.mentions.username" in self.expansions
            out["mentions"] = [
                {"start": m.start, "end": m.end, "username": w.screen_name(m.slot),
                 **({"id": str(w.user_id(m.slot))} if with_id else {})}
                for m in v.mentions
            ]
        urls: list[dict[str, Any]] = [
            {"start": x.start, "end": x.end, "url": x.tco, "expanded_url": x.expanded, "display_url": x.display}
            for x in v.links
        ]
        for ml in v.media_links:
            m = ml.media
            urls.append({"start": ml.start, "end": ml.end, "url": m.tco, "expanded_url": m.expanded,
                         "display_url": "pic.twitter.com/" + m.tco.removeprefix(TCO),
                         "media_key": v2model.media_key(m)})
        if v.permalink is not None:
            p = v.permalink
            urls.append({"start": p.start, "end": p.end, "url": p.tco, "expanded_url": p.expanded,
                         "display_url": p.display})
        if urls:
            out["urls"] = sorted(urls, key=lambda u: u["start"])
        return out

    def media(self, m: Media) -> dict[str, Any]:
        f = self.media_fields
        d: dict[str, Any] = {"media_key": v2model.media_key(m), "type": m.kind}
        if "url" in f and m.kind == "photo":
            d["url"] = m.url_https
        if "preview_image_url" in f and m.kind != "photo":
            d["preview_image_url"] = m.url_https
        if "width" in f:
            d["width"] = m.width
        if "height" in f:
            d["height"] = m.height
        if "duration_ms" in f and m.kind == "video" and m.duration_ms is not None:
            d["duration_ms"] = m.duration_ms
        if "variants" in f and m.variants is not None:
            d["variants"] = [
                {**({"bit_rate": v["bitrate"]} if "bitrate" in v else {}),
                 "content_type": v["content_type"], "url": v["url"]}
                for v in m.variants
            ]
        if "public_metrics" in f and m.kind == "video":
            d["public_metrics"] = {"view_count": m.id % 100_000}
        return d

    # -- pages --------------------------------------------------------------------------------

    def tweets_page(self, tweets: list[TweetModel]) -> dict[str, Any]:
        """``data`` and ``includes`` of a page of tweets (``meta`` is the caller's)."""
        w = self.world
        exp = self.expansions
        users: dict[int, None] = {}
        included: dict[int, TweetModel] = {}
        media: dict[int, Media] = {}
        for t in tweets:
            if "author_id" in exp:
                users.setdefault(t.slot)
            if "entities.mentions.username" in exp:
                for m in v2model.view(w, t).mentions:
                    users.setdefault(m.slot)
            if "in_reply_to_user_id" in exp and t.reply_to and not t.retweeted:
                users.setdefault(t.reply_to[0])
            for _kind, target in v2model.references(t):
                if "referenced_tweets.id" in exp:
                    ref = w.tweet(*target)
                    included.setdefault(ref.id, ref)
                if "referenced_tweets.id.author_id" in exp:
                    users.setdefault(target[0])
            if "attachments.media_keys" in exp:
                for m in v2model.attachments(w, t):
                    media.setdefault(m.id, m)
        out: dict[str, Any] = {"data": [self.tweet(t) for t in tweets]}
        includes: dict[str, Any] = {}
        if media:
            includes["media"] = [self.media(m) for m in media.values()]
        if users:
            includes["users"] = [self.user(s) for s in users]
        if included:
            includes["tweets"] = [self.tweet(t) for t in included.values()]
        if includes:
            out["includes"] = includes
        return out
