"""Ground truth: the items a correct crawl of the synthetic world exports.

Computed from the world model directly (accounts, follow lists, :class:`TweetModel` records),
never from the emulator's JSON, so that comparing a crawl's export with it checks the crawler's
parser independently. The rules are PRODUCT.md §1/§3/§4 (Memri's Twitter data model); each one is
applied where the comment says so. Items are plain dicts, written here from the world: the oracle
shares no code with the crawler it judges.

The result is one item per key, as the store holds it after all upserts: an account that is
both mentioned (minimal) and seen in full appears once, in full. Items are produced as a stream
(accounts of tweets last) so that 100,000 followers never sit in memory as item dicts.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from twitter_emulator import synth, v2model
from twitter_emulator.tweets import TweetModel
from twitter_emulator.world import TIMELINE_CAP, World

logger = logging.getLogger(__name__)

PARTS = ("user", "followers", "following", "timeline", "following_timelines")
#: The spider's default for ``following_tweets`` (PRODUCT.md §1).
DEFAULT_FOLLOWING_TWEETS = 5


API_VERSIONS = ("1.1", "2")
#: The ``service`` of every Account and Tweet in Memri's model.
SERVICE = "twitter"


def _item(kind: str, **props: object) -> dict[str, Any]:
    """An item as a crawl exports it: ``type`` first, then its properties in the data model's
    order (the keyword order here), ``None`` left out (an export never writes one)."""
    out: dict[str, Any] = {"type": kind}
    out.update((name, value) for name, value in props.items() if value is not None)
    return out


def _ref(item_type: str, key: str) -> dict[str, str]:
    """An edge's end: a Website by its ``url``, anything else by its ``externalId``."""
    if item_type == "Website":
        return {"type": "Website", "url": key}
    return {"type": item_type, "externalId": key}


@dataclass(frozen=True)
class TruthQuery:
    handle: str
    parts: frozenset[str]
    limit: int | None
    following_tweets: int
    api: str = "2"  # X sells only v2 to self-serve developers since 2026, and the crawl defaults to it
    v2_source: bool = False  # the emulator serves tweet.fields=source on /2 (--v2-source)


def account_item(world: World, slot: int, is_me: bool) -> dict[str, Any]:
    a = world.account(slot)
    return _item(
        "Account",
        externalId=str(a.id),
        service=SERVICE,
        handle=a.screen_name,
        displayName=a.name,
        description=a.description,
        location=a.location,
        url=a.url,  # the expanded profile link (entities.url), not the t.co one
        avatarUrl=a.avatar,
        followersCount=a.followers_count,
        followingCount=a.friends_count,
        tweetCount=a.statuses_count,
        listedCount=a.listed_count,
        verified=a.verified,
        protected=a.protected,
        dateJoined=synth.iso_date(a.created_ms),
        # Known for every full account (the crawl knows the imported account's id): true for
        # the imported handle, false for everyone else. Minimal mention Accounts leave it out.
        isMe=is_me,
    )


def _edge(name: str, src_type: str, src: str, dst_type: str, dst: str) -> dict[str, Any]:
    return _item("Edge", name=name, source=_ref(src_type, src), target=_ref(dst_type, dst))



def _media_items(t: TweetModel, tid: str) -> Iterator[dict[str, Any]]:
    """A tweet's Photos and Videos with their edges, as either API version imports them."""
    for media in t.media:
        mid = str(media.id)
        if media.kind == "photo":
            # width/height: the original size (sizes.large and original_info agree here)
            yield _item("Photo", externalId=mid, url=media.url_https, width=media.width, height=media.height)
            yield _edge("photo", "Tweet", tid, "Photo", mid)
        else:
            mp4 = [v for v in media.variants or () if v["content_type"] == "video/mp4"]
            best = max(mp4, key=lambda v: v.get("bitrate", 0))["url"] if mp4 else None
            yield _item(
                "Video", externalId=mid, url=best, thumbnailUrl=media.url_https,
                durationMs=media.duration_ms, isGif=media.kind == "animated_gif",
            )
            yield _edge("video", "Tweet", tid, "Video", mid)

class _Collector:
    """Walks tweets and yields their items once each, remembering which accounts they need."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.tweets: set[int] = set()
        self.quotes_done: set[int] = set()
        self.websites: set[str] = set()
        self.authors: set[int] = set()  # accounts seen in full (a tweet's embedded user)
        self.mentioned: set[int] = set()

    def tweet(self, t: TweetModel, embed_quote: bool) -> Iterator[dict[str, Any]]:
        w = self.world
        tid = str(t.id)
        if t.id not in self.tweets:
            self.tweets.add(t.id)
            self.authors.add(t.slot)
            orig = w.tweet(*t.retweeted) if t.retweeted else None
            yield _item(
                "Tweet",
                externalId=tid,
                service=SERVICE,
                # A retweet's message is the retweeted tweet's full text (PRODUCT.md §4); texts are
                # HTML-unescaped (the model keeps them unescaped).
                message=orig.text if orig else t.text,
                postDate=synth.iso_date(t.ms),
                # retweet, else quote, else reply, else tweet (PRODUCT.md §4)
                tweetType="retweet" if orig else t.kind,
                lang=t.lang,
                source=t.source[0],  # the app name, without its HTML anchor
                retweetCount=t.retweet_count,
                likeCount=t.favorite_count,
                # inReplyToId, but no reference edge: v1.1 never embeds the replied-to tweet
                inReplyToId=str(w.tweet_id(*t.reply_to)) if t.reply_to else None,
            )
            yield _edge("author", "Tweet", tid, "Account", str(w.user_id(t.slot)))
            if orig:
                # The original and its author are items of their own, linked by a reference
                # edge; the retweet itself carries no media, link or mention edges.
                yield _edge("reference", "Tweet", tid, "Tweet", str(orig.id))
                yield from self.tweet(orig, embed_quote=embed_quote)
            else:
                yield from self._entities(t, tid)
        if embed_quote and t.quoted and not t.retweeted and t.id not in self.quotes_done:
            # A quote references the quoted tweet only where the payload embeds it: one level.
            self.quotes_done.add(t.id)
            q = w.tweet(*t.quoted)
            yield _edge("reference", "Tweet", tid, "Tweet", str(q.id))
            yield from self.tweet(q, embed_quote=False)

    def _entities(self, t: TweetModel, tid: str) -> Iterator[dict[str, Any]]:
        w = self.world
        seen_mentions: set[int] = set()
        for m in t.mentions:
            if m.slot not in seen_mentions:
                seen_mentions.add(m.slot)
                self.mentioned.add(m.slot)
                yield _edge("mention", "Tweet", tid, "Account", str(w.user_id(m.slot)))
        yield from _media_items(t, tid)
        seen_links: set[str] = set()
        for link in t.links:
            if link.expanded in seen_links:
                continue
            seen_links.add(link.expanded)
            if link.expanded not in self.websites:
                self.websites.add(link.expanded)
                yield _item("Website", url=link.expanded, displayUrl=link.display)
            yield _edge("link", "Tweet", tid, "Website", link.expanded)


class _CollectorV2:
    """The same walk for a crawl over API v2 (``api=2``). What v2 changes, and why:

    * every tweet gets ``replyCount``, ``conversationId``, ``quoteCount``, ``bookmarkCount`` and
      ``impressionCount`` (v2's ``public_metrics``); ``source`` only with
      ``--v2-source`` (v2 stopped sending it for most apps);
    * a quote's ``message`` ends with the quoted tweet's t.co permalink (v2 keeps it in the
      text), which is not a link;
    * a data tweet (one a timeline page lists) references what it retweets, quotes *or replies
      to*: v2 includes each of them (``referenced_tweets.id``), one level deep, with its author
      (``referenced_tweets.id.author_id``). Included tweets name their own references by id only,
      so a retweeted quote has no reference edge to the tweet it quotes (v1.1 embeds that one);
    * media: v2 expands the media of data tweets only, and a retweet's attachments are its
      original's. So a tweet has its photos and videos when it is itself a data tweet or the
      original of one; a quoted or replied-to tweet has none otherwise;
    * a mention's minimal Account has a ``displayName`` only when v2 sent the user object:
      the users a data tweet mentions (``entities.mentions.username``, retweets included), and
      authors (who are full Accounts anyway).
    """

    def __init__(self, world: World, source: bool) -> None:
        self.world = world
        self.source = source
        self.done: set[int] = set()
        self.media_done: set[int] = set()
        self.websites: set[str] = set()
        self.authors: set[int] = set()
        self.mentioned: set[int] = set()
        self.named: set[int] = set()  # mentioned users whose user object some page carries

    def data(self, t: TweetModel) -> Iterator[dict[str, Any]]:
        """A tweet listed by a timeline page, with what it references."""
        w = self.world
        tid = str(t.id)
        yield from self._base(t)
        self.named.update(m.slot for m in v2model.view(w, t).mentions)
        if t.retweeted:
            orig = w.tweet(*t.retweeted)
            yield _edge("reference", "Tweet", tid, "Tweet", str(orig.id))
            yield from self._base(orig)
            yield from self._media(orig)  # the retweet's attachments are the original's
            return
        yield from self._media(t)
        for target in (t.quoted, t.reply_to):
            if target:
                ref_tweet = w.tweet(*target)
                yield _edge("reference", "Tweet", tid, "Tweet", str(ref_tweet.id))
                yield from self._base(ref_tweet)

    def _base(self, t: TweetModel) -> Iterator[dict[str, Any]]:
        """The tweet, its author edge, and (not for a retweet) its mentions and links."""
        if t.id in self.done:
            return
        self.done.add(t.id)
        w = self.world
        tid = str(t.id)
        self.authors.add(t.slot)
        text = v2model.view(w, w.tweet(*t.retweeted) if t.retweeted else t).text
        yield _item(
            "Tweet",
            externalId=tid,
            service=SERVICE,
            message=text,  # the model keeps texts unescaped
            postDate=synth.iso_date(t.ms),
            tweetType="retweet" if t.retweeted else t.kind,
            lang=t.lang,
            source=t.source[0] if self.source else None,
            retweetCount=t.retweet_count,
            likeCount=t.favorite_count,
            inReplyToId=str(w.tweet_id(*t.reply_to)) if t.reply_to and not t.retweeted else None,
            replyCount=v2model.reply_count(w, t),
            conversationId=str(v2model.conversation_id(w, t)),
            quoteCount=v2model.quote_count(w, t),
            bookmarkCount=v2model.bookmark_count(w, t),
            impressionCount=v2model.impression_count(w, t),
        )
        yield _edge("author", "Tweet", tid, "Account", str(w.user_id(t.slot)))
        if t.retweeted:
            return
        seen_mentions: set[int] = set()
        for m in t.mentions:
            if m.slot not in seen_mentions:
                seen_mentions.add(m.slot)
                self.mentioned.add(m.slot)
                yield _edge("mention", "Tweet", tid, "Account", str(w.user_id(m.slot)))
        seen_links: set[str] = set()
        for link in t.links:  # the quote permalink is not among them: not a link
            if link.expanded in seen_links:
                continue
            seen_links.add(link.expanded)
            if link.expanded not in self.websites:
                self.websites.add(link.expanded)
                yield _item("Website", url=link.expanded, displayUrl=link.display)
            yield _edge("link", "Tweet", tid, "Website", link.expanded)

    def _media(self, t: TweetModel) -> Iterator[dict[str, Any]]:
        if t.id in self.media_done:
            return
        self.media_done.add(t.id)
        yield from _media_items(t, str(t.id))


def contacts_in_truth(world: World, slot: int, which: str, limit: int | None) -> list[int]:
    """The accounts a crawl imports from a followers/friends list: newest first, suspended
    accounts left out (the list endpoints omit them, users/lookup too), at most ``limit``."""
    out: list[int] = []
    contacts = world.contacts(slot, which)
    for _seq, member in contacts.down(contacts.max_seq):
        if limit is not None and len(out) >= limit:
            break
        if world.state(member) != "suspended":
            out.append(member)
    return out


def truth_items(world: World, q: TruthQuery) -> Iterator[dict[str, Any]]:
    """Every item of a correct crawl of ``q.handle``; nothing if the crawl cannot start."""
    slot = world.slot_by_name(q.handle)
    if slot is None or world.state(slot) == "suspended":
        return  # the crawl closes on 404 code 50 / 403 code 63 before importing anything
    me_id = str(world.user_id(slot))
    full: set[int] = set()
    if "user" in q.parts:
        full.add(slot)
        yield account_item(world, slot, is_me=True)
    me = slot
    followings = contacts_in_truth(world, slot, "friends", q.limit)
    for part, which, edge in (("followers", "followers", "follower"), ("following", "friends", "following")):
        if part not in q.parts:
            continue
        members = followings if which == "friends" else contacts_in_truth(world, slot, which, q.limit)
        for member in members:
            if member not in full:
                full.add(member)
                yield account_item(world, member, is_me=member == me)
            yield _edge(edge, "Account", me_id, "Account", str(world.user_id(member)))
    v2 = q.api == "2"
    col: Any = _CollectorV2(world, q.v2_source) if v2 else _Collector(world)
    timelines: list[tuple[int, int]] = []
    if "timeline" in q.parts:
        own = TIMELINE_CAP if q.limit is None else min(q.limit, TIMELINE_CAP)
        timelines.append((slot, own))
    if "following_timelines" in q.parts and q.following_tweets > 0:
        for member in followings:
            # A protected account's timeline answers 401 and is skipped; its profile stays.
            if member != slot and world.state(member) == "active":
                timelines.append((member, min(q.following_tweets, TIMELINE_CAP)))
    for author, count in timelines:
        for n in world.timeline_indices(author, count, None, None):
            if v2:
                yield from col.data(world.tweet(author, n))
            else:
                yield from col.tweet(world.tweet(author, n), embed_quote=True)
    for author in sorted(col.authors - full):
        full.add(author)
        yield account_item(world, author, is_me=author == me)
    for m in sorted(col.mentioned - full):
        # A mention gives a minimal Account (externalId, handle, displayName); over v2 the
        # displayName only where a page carried the user object.
        named = not v2 or m in col.named
        yield _item("Account", externalId=str(world.user_id(m)), service=SERVICE,
                    handle=world.screen_name(m),
                    displayName=world.account_static(m)[1] if named else None)


def parse_query(world: World, params: dict[str, str], *, v2_source: bool = False) -> TruthQuery:
    """``handle``, ``parts`` (comma list), ``limit``, ``following_tweets`` as the spider takes them,
    and ``api`` (``2``, the default as X's and the crawl's, or ``1.1``): the crawl's API version."""
    handle = params.get("handle", world.opts.handle).lstrip("@")
    parts_raw = params.get("parts", "")
    parts = frozenset(p.strip() for p in parts_raw.split(",") if p.strip()) if parts_raw else frozenset(PARTS)
    unknown = parts - set(PARTS)
    if unknown:
        raise ValueError(f"unknown parts: {', '.join(sorted(unknown))}")
    limit = int(params["limit"]) if params.get("limit") not in (None, "") else None
    ft = int(params.get("following_tweets") or DEFAULT_FOLLOWING_TWEETS)
    if (limit is not None and limit < 0) or ft < 0:
        raise ValueError("limit and following_tweets must not be negative")
    api = params.get("api") or "2"
    if api == "1":
        api = "1.1"
    if api not in API_VERSIONS:
        raise ValueError(f"api must be one of {', '.join(API_VERSIONS)}")
    return TruthQuery(handle=handle, parts=parts, limit=limit, following_tweets=ft, api=api,
                      v2_source=v2_source)
