"""What API v2 says about a synthetic tweet beyond the v1.1 model (``tweets.py``).

The world is the same for both API versions; v2 only shows it differently. The v2-only facts
live here, as pure functions of the world, so that the v2 serializer (``serialize_v2``) and the
ground truth (``truth``, ``api=2``) share them without the truth ever reading v2 JSON:

* the v2 text: v2 keeps the quoted tweet's t.co permalink at the end of a quote's ``text`` (and
  in ``entities.urls``), where v1.1 puts it in ``quoted_status_permalink``; a retweet's text is
  ``RT @author: `` + the original's v2 text, cut to 140 characters (``…``), with the entities
  that fit;
* ``reply_count`` (0 for retweets), ``quote_count``, ``bookmark_count`` and ``impression_count``
  (X's OpenAPI description requires the last two in ``public_metrics``; 0 for retweets, whose
  engagement is the original's), and ``conversation_id`` (the root of a
  reply chain; a tweet's own id otherwise, retweets included);
* media keys: ``3_<id>`` photos, ``7_<id>`` videos, ``16_<id>`` animated GIFs.

Nothing here changes what v1.1 serves: new decisions use their own salt.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from twitter_emulator import synth
from twitter_emulator.synth import h64, subunit
from twitter_emulator.tweets import RT_LIMIT, TCO, Hashtag, Link, Media, Mention, TweetModel

if TYPE_CHECKING:
    from twitter_emulator.world import World

logger = logging.getLogger(__name__)

S_V2 = 0x5001  # salt of the v2-only metrics
MEDIA_KEY_PREFIX = {"photo": "3", "video": "7", "animated_gif": "16"}


@dataclass(slots=True)
class MediaLink:
    """A media t.co link as v2 lists it in ``entities.urls`` (one entry per media)."""

    media: Media
    start: int
    end: int


@dataclass(slots=True)
class View:
    """A tweet as v2 shows it: unescaped text and entities with positions in it."""

    text: str
    mentions: list[Mention]
    links: list[Link]  # ordinary links (Websites)
    hashtags: list[Hashtag]
    media_links: list[MediaLink]
    permalink: Link | None  # the quoted tweet's permalink


def media_key(m: Media) -> str:
    return f"{MEDIA_KEY_PREFIX[m.kind]}_{m.id}"


def quote_permalink(world: World, t: TweetModel, start: int) -> Link | None:
    """The t.co link to the tweet ``t`` quotes (the same link v1.1 puts in
    ``quoted_status_permalink``), placed at ``start``."""
    if not t.quoted or t.retweeted:
        return None
    qslot = t.quoted[0]
    qid = world.tweet_id(*t.quoted)
    screen = world.screen_name(qslot)
    tco = TCO + synth.code62(h64(t.id, 78), 10)
    return Link(tco, f"https://twitter.com/{screen}/status/{qid}", f"twitter.com/{screen}/s…",
                start, start + len(tco))


def view(world: World, t: TweetModel) -> View:
    """The v2 text of ``t`` and its entities."""
    if t.retweeted:
        return _retweet_view(world, t, world.tweet(*t.retweeted))
    text = t.text
    permalink = quote_permalink(world, t, len(text) + 1)
    if permalink is not None:
        text = f"{text} {permalink.tco}"
    media_links = [MediaLink(m, m.start, m.end) for m in t.media]
    return View(text, list(t.mentions), list(t.links), list(t.hashtags), media_links, permalink)


def _retweet_view(world: World, t: TweetModel, orig: TweetModel) -> View:
    ov = view(world, orig)
    name = world.screen_name(orig.slot)
    prefix = f"RT @{name}: "
    full = prefix + ov.text
    keep = len(full)
    if keep > RT_LIMIT:
        keep = RT_LIMIT - 1
        full = full[:keep] + "…"
    off = len(prefix)
    mentions = [Mention(orig.slot, 3, 4 + len(name))]
    mentions += [Mention(m.slot, m.start + off, m.end + off) for m in ov.mentions if m.end + off <= keep]
    links = [Link(x.tco, x.expanded, x.display, x.start + off, x.end + off)
             for x in ov.links if x.end + off <= keep]
    tags = [Hashtag(x.text, x.start + off, x.end + off) for x in ov.hashtags if x.end + off <= keep]
    media = [MediaLink(x.media, x.start + off, x.end + off) for x in ov.media_links if x.end + off <= keep]
    perm = ov.permalink
    if perm is not None:
        perm = Link(perm.tco, perm.expanded, perm.display, perm.start + off, perm.end + off)
        if perm.end > keep:
            perm = None
    return View(full, mentions, links, tags, media, perm)


def attachments(world: World, t: TweetModel) -> list[Media]:
    """The media a tweet's ``attachments.media_keys`` name: a retweet names all of its
    original's (so the original's media come with the retweet's expansions)."""
    if t.retweeted:
        return world.tweet(*t.retweeted).media
    return t.media


def reply_count(world: World, t: TweetModel) -> int:
    if t.retweeted:
        return 0
    return int(10 ** (subunit(world.tweet_hash(t.slot, t.n), S_V2) * 2.5)) - 1


def quote_count(world: World, t: TweetModel) -> int:
    if t.retweeted:
        return 0
    return int(10 ** (subunit(world.tweet_hash(t.slot, t.n), S_V2 + 1) * 2.0)) - 1


def bookmark_count(world: World, t: TweetModel) -> int:
    """About one like in 5 to 40 becomes a bookmark."""
    if t.retweeted:
        return 0
    return int(t.favorite_count * subunit(world.tweet_hash(t.slot, t.n), S_V2 + 2) / 5)


def impression_count(world: World, t: TweetModel) -> int:
    """Views: 20 to 120 per engagement, plus a few hundred that engaged with nothing (so every
    tweet has views, as on X). Always at least the likes, retweets and replies."""
    if t.retweeted:
        return 0
    h = world.tweet_hash(t.slot, t.n)
    engaged = t.favorite_count + t.retweet_count + reply_count(world, t)
    return engaged * (20 + int(100 * subunit(h, S_V2 + 3))) + int(10 ** (1 + 2 * subunit(h, S_V2 + 4)))


def conversation_id(world: World, t: TweetModel) -> int:
    """The id of the first tweet of ``t``'s reply chain (replies point at earlier tweets, so the
    walk ends); a tweet that is not a reply, a retweet included, starts its own conversation."""
    cur = t
    while cur.reply_to is not None and not cur.retweeted:
        cur = world.tweet(*cur.reply_to)
    return cur.id


def references(t: TweetModel) -> list[tuple[str, tuple[int, int]]]:
    """``referenced_tweets`` as (type, (slot, n)): a retweet names only its original."""
    if t.retweeted:
        return [("retweeted", t.retweeted)]
    out: list[tuple[str, tuple[int, int]]] = []
    if t.quoted:
        out.append(("quoted", t.quoted))
    if t.reply_to:
        out.append(("replied_to", t.reply_to))
    return out
