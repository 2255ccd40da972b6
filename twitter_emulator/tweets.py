"""What a synthetic tweet says: its kind, text, entities and media, derived from (slot, index).

A :class:`TweetModel` is the world's record of one tweet, independent of how the API renders
it (``serialize`` turns it into v1.1 JSON, ``truth`` into items). Texts are kept *unescaped*
here, with entity indices in code points over the unescaped text, as Twitter counts them; the
serializer escapes ``&``, ``<`` and ``>`` on the way out.

Retweets, quotes and replies point at real tweets of the world (an earlier tweet of another
account), so an original seen inside a retweet is the very tweet its author's timeline serves.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from twitter_emulator import synth
from twitter_emulator.synth import (
    M64,
    MEDIA_BIT,
    OUT0,
    S_KIND,
    S_LINK,
    S_MEDIA,
    S_MENTION,
    S_META,
    S_TARGET,
    S_TEXT,
    h64,
    sub,
    subunit,
)

if TYPE_CHECKING:
    from twitter_emulator.world import World

logger = logging.getLogger(__name__)

TCO = "https://t.co/"
RT_LIMIT = 140  # classic retweet texts are cut to 140 characters ("…"), in both tweet modes


@dataclass(slots=True)
class Mention:
    slot: int
    start: int
    end: int


@dataclass(slots=True)
class Link:
    tco: str
    expanded: str
    display: str
    start: int
    end: int


@dataclass(slots=True)
class Hashtag:
    text: str
    start: int
    end: int


@dataclass(slots=True)
class Media:
    id: int
    kind: str  # photo | video | animated_gif
    url_https: str  # media_url_https (the image, or the video's thumbnail)
    width: int
    height: int
    tco: str
    expanded: str
    start: int
    end: int
    duration_ms: int | None = None
    variants: list[dict] | None = None
    aspect: tuple[int, int] | None = None
    source_tweet: int | None = None  # set on a retweet's copy: the original's id ...
    source_user: int | None = None  # ... and author slot


@dataclass(slots=True)
class TweetModel:
    slot: int
    n: int
    id: int
    ms: int
    kind: str  # tweet | retweet | quote | reply
    text: str  # unescaped full text
    display: tuple[int, int]
    lang: str
    source: tuple[str, str]
    retweet_count: int
    favorite_count: int
    mentions: list[Mention] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    hashtags: list[Hashtag] = field(default_factory=list)
    media: list[Media] = field(default_factory=list)
    retweeted: tuple[int, int] | None = None  # (slot, n) of the original
    quoted: tuple[int, int] | None = None
    reply_to: tuple[int, int] | None = None


class _Text:
    """Appends text pieces and reports their [start, end) in code points."""

    __slots__ = ("parts", "length")

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.length = 0

    def add(self, piece: str) -> tuple[int, int]:
        start = self.length
        self.parts.append(piece)
        self.length += len(piece)
        return start, self.length

    def value(self) -> str:
        return "".join(self.parts)


def _count(base: int, salt: int, scale: float = 4.0) -> int:
    return int(10 ** (subunit(base, salt) * scale)) - 1


def pick_target(world: World, slot: int, base: int, ms: int, purpose: int) -> tuple[int, int] | None:
    """An earlier, non-retweet tweet of another usable account, or None."""
    for attempt in range(4):
        hb = sub(base, S_TARGET << 16 | purpose << 8 | attempt)
        if attempt < 2:
            b = world.pool_slot(hb % (world.pool + 1))  # anyone: the graph, outsiders, the main account
        else:
            b = OUT0 + hb % world.opts.outsiders  # outsiders' histories reach back to 2012
        if b == slot or not world.usable_author(b):
            continue
        top = world.last_before_ms(b, ms)
        if top < 0:
            continue
        m = max(0, top - (hb >> 40) % 3)
        for _ in range(12):
            if m < 0:
                break
            if not world.is_retweet_roll(b, m):  # a retweet is never retweeted, quoted or replied to
                return b, m
            m -= 1
    return None


def make_tweet(world: World, slot: int, n: int) -> TweetModel:
    """The tweet ``n`` (0 = oldest) of account ``slot``."""
    seed, opts = world.seed, world.opts
    base = world.tweet_hash(slot, n)
    ms = world.tweet_ms(slot, n)
    tid = synth.snowflake(ms, slot)
    u = subunit(base, S_KIND)  # the same roll as World.is_retweet_roll
    if u < opts.retweet_share:
        target = pick_target(world, slot, base, ms, 1)
        if target is not None:
            return _retweet(world, slot, n, base, ms, tid, target)
    kind, quoted, reply_to = "tweet", None, None
    u -= opts.retweet_share
    if 0 <= u < opts.quote_share:
        quoted = pick_target(world, slot, base, ms, 2)
        kind = "quote" if quoted else "tweet"
    elif 0 <= u - opts.quote_share < opts.reply_share:
        if n > 0 and sub(base, S_KIND << 16 | 1) % 4 == 0 and not world.is_retweet_roll(slot, n - 1):
            reply_to = (slot, n - 1)  # a thread: replying to one's own previous tweet
        else:
            reply_to = pick_target(world, slot, base, ms, 3)
        kind = "reply" if reply_to else "tweet"

    text = _Text()
    mentions: list[Mention] = []
    seen = {slot}
    display_start = 0
    if reply_to and reply_to[0] != slot:
        start, end = text.add("@" + world.screen_name(reply_to[0]))
        mentions.append(Mention(reply_to[0], start, end))
        seen.add(reply_to[0])
        display_start = text.add(" ")[1]
    hashtags = _body(world, base, text, mentions, seen)
    links: list[Link] = []
    if subunit(base, S_LINK) < opts.link_share:
        links.append(_link(base, text))
    display_end = text.length
    media = _media(world, slot, base, ms, tid, text)
    hs = sub(base, S_META)
    src = synth.SOURCES[h64(seed, S_META, slot) % len(synth.SOURCES)] if hs % 5 else synth.SOURCES[hs % len(synth.SOURCES)]
    return TweetModel(
        slot=slot, n=n, id=tid, ms=ms, kind=kind, text=text.value(), display=(display_start, display_end),
        lang=synth.LANGS[(hs >> 8) % len(synth.LANGS)], source=src,
        retweet_count=_count(base, S_META << 16 | 1, scale=3.5),
        favorite_count=_count(base, S_META << 16 | 2),
        mentions=mentions, links=links, hashtags=hashtags, media=media,
        quoted=quoted, reply_to=reply_to,
    )


def _body(world: World, base: int, text: _Text, mentions: list[Mention], seen: set[int]) -> list[Hashtag]:
    """Words, with mentions, escaping-prone tokens, an emoji and a hashtag mixed in."""
    opts = world.opts
    hb = sub(base, S_TEXT)
    long_text = hb % 10 < 3  # ~30% exceed 140 characters: compat mode truncates them
    target = 150 + (hb >> 8) % 70 if long_text else 20 + (hb >> 8) % 90
    n_mentions = 0
    if subunit(base, S_MENTION) < opts.mention_share:
        n_mentions = 1 + (hb >> 16) % 2
    mention_at = {(hb >> (20 + 4 * i)) % 6 for i in range(n_mentions)}
    spicy_at = (hb >> 30) % 8 if (hb >> 34) % 7 == 0 else -1
    words, n_words = synth.WORDS, len(synth.WORDS)
    x = hb
    i = 0
    parts = text.parts
    while text.length < target or i == 0:
        sep = " " if text.length else ""
        if i in mention_at:
            mention_at.discard(i)
            m = world.pool_slot(sub(base, S_MENTION << 16 | i) % (world.pool + 1))
            if m not in seen and world.usable_author(m):
                seen.add(m)
                if sep:
                    text.add(sep)
                start, end = text.add("@" + world.screen_name(m))
                mentions.append(Mention(m, start, end))
                sep = " "
        if i == spicy_at:
            text.add(sep + synth.SPICY[(hb >> 40) % len(synth.SPICY)])
            sep = " "
        # Words from a 64-bit LCG seeded by the tweet's hash: one multiply per word instead of
        # a full hash, appended inline (text generation dominates the cost of a timeline page).
        x = (x * 6364136223846793005 + 1442695040888963407) & M64
        piece = sep + words[(x >> 33) % n_words]
        parts.append(piece)
        text.length += len(piece)
        i += 1
    hashtags: list[Hashtag] = []
    if (hb >> 44) % 10 == 0:
        tag = synth.HASHTAGS[(hb >> 48) % len(synth.HASHTAGS)]
        text.add(" ")
        start, end = text.add("#" + tag)
        hashtags.append(Hashtag(tag, start, end))
    if (hb >> 52) % 5 == 0:
        text.add(" " + synth.EMOJI[(hb >> 56) % len(synth.EMOJI)])
    return hashtags


def _link(base: int, text: _Text) -> Link:
    hl = sub(base, S_LINK << 16 | 1)
    site = synth.SITES[hl % len(synth.SITES)]
    expanded = f"https://{site}/{synth.WORDS[(hl >> 8) % len(synth.WORDS)]}/{(hl >> 20) % 400}"
    if (hl >> 40) % 4 == 0:
        expanded += "?utm_source=twitter&utm_medium=social"
    display = expanded.removeprefix("https://").removeprefix("www.")
    if len(display) > 26:
        display = display[:26] + "…"
    tco = TCO + synth.code62(sub(base, S_LINK << 16 | 2), 10)
    text.add(" ")
    start, end = text.add(tco)
    return Link(tco, expanded, display, start, end)


_PHOTO_SIZES = ((1200, 675), (1024, 1024), (2048, 1536), (1536, 2048), (800, 600), (1080, 1350), (640, 480))
_VIDEO_SHAPES = (((16, 9), (1280, 720)), ((9, 16), (720, 1280)), ((1, 1), (720, 720)), ((4, 3), (960, 720)))


def _media(world: World, slot: int, base: int, ms: int, tid: int, text: _Text) -> list[Media]:
    opts = world.opts
    u = subunit(base, S_MEDIA)
    if u < opts.photo_share:
        kind = "photo"
    elif u < opts.photo_share + opts.video_share:
        kind = "video"
    elif u < opts.photo_share + opts.video_share + opts.gif_share:
        kind = "animated_gif"
    else:
        return []
    hm = sub(base, S_MEDIA << 16 | 1)
    code = synth.code62(hm, 10)
    tco = TCO + code
    text.add(" ")
    start, end = text.add(tco)  # media links close the full text, outside display_text_range
    screen = world.screen_name(slot)
    out: list[Media] = []
    if kind == "photo":
        count = 1 + (hm >> 40) % 4 if (hm >> 44) % 3 == 0 else 1
        for k in range(count):
            mid = synth.snowflake(ms - 1 - k, MEDIA_BIT | slot)
            w, h = _PHOTO_SIZES[(hm >> (8 + 3 * k)) % len(_PHOTO_SIZES)]
            out.append(Media(
                id=mid, kind="photo", url_https=f"https://pbs.twimg.com/media/{synth.b64code(h64(mid), 15)}.jpg",
                width=w, height=h, tco=tco, expanded=f"https://twitter.com/{screen}/status/{tid}/photo/{k + 1}",
                start=start, end=end,
            ))
        return out
    mid = synth.snowflake(ms - 1, MEDIA_BIT | slot)
    file = synth.b64code(h64(mid), 16)
    aspect, (w, h) = _VIDEO_SHAPES[(hm >> 8) % len(_VIDEO_SHAPES)]
    if kind == "animated_gif":
        return [Media(
            id=mid, kind=kind, url_https=f"https://pbs.twimg.com/tweet_video_thumb/{file}.jpg",
            width=w // 2, height=h // 2, tco=tco, expanded=f"https://twitter.com/{screen}/status/{tid}/photo/1",
            start=start, end=end, aspect=aspect,
            variants=[{"bitrate": 0, "content_type": "video/mp4", "url": f"https://video.twimg.com/tweet_video/{file}.mp4"}],
        )]
    base = f"https://video.twimg.com/ext_tw_video/{mid}/pu"
    mp4 = [
        {"bitrate": b, "content_type": "video/mp4", "url": f"{base}/vid/{w * s // 4}x{h * s // 4}/{file}.mp4?tag=12"}
        for b, s in ((832000, 2), (2176000, 4), (256000, 1))
    ]
    variants = [{"content_type": "application/x-mpegURL", "url": f"{base}/pl/{file}.m3u8?tag=12"}, *mp4]
    rot = (hm >> 12) % len(variants)  # highest bitrate is not always last (or first)
    variants = variants[rot:] + variants[:rot]
    return [Media(
        id=mid, kind=kind, url_https=f"https://pbs.twimg.com/ext_tw_video_thumb/{mid}/pu/img/{file}.jpg",
        width=w, height=h, tco=tco, expanded=f"https://twitter.com/{screen}/status/{tid}/video/1",
        start=start, end=end, aspect=aspect, duration_ms=3000 + (hm >> 16) % 137000, variants=variants,
    )]


def _retweet(world: World, slot: int, n: int, base: int, ms: int, tid: int, target: tuple[int, int]) -> TweetModel:
    """A native retweet: "RT @author: " + the original's text (cut to 140), entities shifted."""
    orig = world.tweet(*target)
    prefix = f"RT @{world.screen_name(orig.slot)}: "
    full = prefix + orig.text
    if len(full) > RT_LIMIT:
        full = full[: RT_LIMIT - 1] + "…"
    limit = len(full)
    off = len(prefix)
    mentions = [Mention(orig.slot, 3, 3 + 1 + len(world.screen_name(orig.slot)))]
    mentions += [Mention(m.slot, m.start + off, m.end + off) for m in orig.mentions if m.end + off <= limit]
    links = [Link(x.tco, x.expanded, x.display, x.start + off, x.end + off) for x in orig.links if x.end + off <= limit]
    tags = [Hashtag(x.text, x.start + off, x.end + off) for x in orig.hashtags if x.end + off <= limit]
    media = [
        Media(
            id=m.id, kind=m.kind, url_https=m.url_https, width=m.width, height=m.height, tco=m.tco,
            expanded=m.expanded, start=m.start + off, end=m.end + off, duration_ms=m.duration_ms,
            variants=m.variants, aspect=m.aspect, source_tweet=orig.id, source_user=orig.slot,
        )
        for m in orig.media if m.end + off <= limit
    ]
    hs = sub(base, S_META)
    src = synth.SOURCES[h64(world.seed, S_META, slot) % len(synth.SOURCES)] if hs % 5 else synth.SOURCES[hs % len(synth.SOURCES)]
    return TweetModel(
        slot=slot, n=n, id=tid, ms=ms, kind="retweet", text=full, display=(0, limit), lang=orig.lang,
        source=src, retweet_count=orig.retweet_count, favorite_count=0,
        mentions=mentions, links=links, hashtags=tags, media=media, retweeted=target,
    )
