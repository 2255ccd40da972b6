"""Archive records → the project's items (:mod:`twitter_crawler.items`), as the API import makes
them: the same externalIds, the same edges, so both imports meet in one store.

The items are made as the plain dicts that :func:`~twitter_crawler.items.to_dict` makes of the
item classes (``type`` first, no ``None``), which is what the store pipeline writes and exports
get: an archive holds hundreds of thousands of tweets, and making each item an object first, then a
dict, then checking it against the crawl's earlier items cost as much as reading the archive.
The parser does that check itself, where it is cheap (:class:`ArchiveParser`): the items it emits
are each new to the import, so the dedupe pipeline passes them as they are
(``Answer(..., distinct=True)``).

Pure functions and small classes, no Scrapy, no I/O. Every field is read defensively (ids,
counts and indices are strings in the archive): an odd record is skipped with a reason, never an
exception.

What the archive knows and the API does not is imported (every tweet since the account began,
likes); what the API knows better is left to it (``None`` here, so the store keeps the API's
value, see ``stores/records.py``): a tweet's counts (the archive's are a snapshot, ``"0"`` on
retweets), and the profile's counts. Private fields are never read: of ``account.js`` only
``accountId``, ``username``, ``accountDisplayName`` and ``createdAt`` are looked at (never
``email`` or ``phoneNumber``).

Archive tweets differ from the API's (``ARCHIVE_FORMAT.md`` §3):

* no ``user``: the author is the archive's owner;
* a retweet is ``RT @author: text…`` cut to 140 characters, without ``retweeted_status``. Its
  message is the text after ``RT @author: `` (the API's is the retweeted tweet's full text: a
  later API import replaces it); the retweeted tweet's id comes from its media's
  ``source_status_id_str`` when it has media, its author from the mention at ``["3", …]``;
* a quote has no ``quoted_status``: its quoted tweet is the ``urls`` entry whose expanded URL is
  ``https://twitter.com/<user>/status/<id>`` (or x.com), which is a ``reference``, not a link;
* long posts keep their full text in ``note-tweet.js``, matched by creation time (±1 s) and
  text prefix, as community-archive does.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from twitter_crawler.fields import (
    as_dict as _d,
    as_id as _id,
    as_int as _int,
    as_list as _l,
    as_str as _s,
    source_name,
    to_iso_utc,
    unescape,
)
from twitter_crawler.items import SERVICE, ref

if TYPE_CHECKING:
    from twitter_crawler.stores.records import EdgeRecord, ItemRecord, Key

__all__ = ["ArchiveParser", "Items", "MediaFile", "Notes", "best_variant", "media_file_names"]

#: An item as the store and exports take it: a plain dict, ``type`` first, no ``None`` value.
Item = dict[str, Any]

_STATUS_URL = re.compile(r"^https?://(?:www\.|mobile\.)?(?:twitter|x)\.com/[^/]+/status(?:es)?/(\d+)")
_RT = re.compile(r"^RT @([A-Za-z0-9_]{1,15}): ")
_TCO_TAIL = re.compile(r"\s*(?:https://t\.co/\w+\s*)+$")
#: Sources whose app names are kept (an archive has a few dozen at most).
_APPS_KEPT = 1000


@dataclass(slots=True)
class MediaFile:
    """A Photo or Video whose file the archive may hold: the candidates, best first."""

    media: dict[str, str]  # ref of the Photo or Video
    tweet_id: str
    names: list[str]
    url: str | None


def best_variant(variants: Any) -> str | None:
    """The highest-bitrate mp4 of a video's variants (bitrates are strings in the archive)."""
    best, best_rate = None, -1
    for variant in _l(variants):
        if type(variant) is not dict or variant.get("content_type") != "video/mp4":
            continue
        url = _s(variant.get("url"))
        rate = _int(variant.get("bitrate", variant.get("bit_rate"))) or 0
        if url and rate > best_rate:
            best, best_rate = url, rate
    return best


def _basename(url: str | None) -> str | None:
    if not url:
        return None
    name = url.split("?", 1)[0].rstrip("/").rpartition("/")[2]
    return name or None


def media_file_names(tweet_id: str, medium: dict[str, Any]) -> list[str]:
    """Where the archive keeps a medium's file: ``<tweet id>-<last segment of the URL>``; for a
    video or GIF, of its mp4 (``ARCHIVE_FORMAT.md`` §4)."""
    names = []
    if medium.get("type") in ("video", "animated_gif"):
        for variant in _l(_d(medium.get("video_info")).get("variants")):
            name = _basename(_s(variant.get("url")) if type(variant) is dict else None)
            if name and name.endswith(".mp4"):
                names.append(f"{tweet_id}-{name}")
    name = _basename(_s(medium.get("media_url_https")) or _s(medium.get("media_url")))
    if name:
        names.append(f"{tweet_id}-{name}")
    return names


class Notes:
    """Full texts of long posts (``note-tweet.js``), looked up by creation second."""

    def __init__(self) -> None:
        self._by_second: dict[str, list[str]] = {}

    def __len__(self) -> int:
        return sum(map(len, self._by_second.values()))

    def add(self, record: Any) -> None:
        note = _d(_d(record).get("noteTweet") or record)
        text = _s(_d(note.get("core")).get("text"))
        created = to_iso_utc(note.get("createdAt"))
        if text and created:
            self._by_second.setdefault(created, []).append(text)

    def full_text(self, created: str | None, text: str) -> str | None:
        """The note whose text the tweet's (cut) text begins, created within a second of it."""
        if not created or not self._by_second:
            return None
        stem = _TCO_TAIL.sub("", text).rstrip("…").rstrip()
        seconds = [created]
        if created[-3:-1].isdigit():
            second = int(created[-3:-1])
            seconds += [f"{created[:-3]}{s:02d}Z" for s in (second - 1, second + 1) if 0 <= s < 60]
        for key in seconds:
            for note in self._by_second.get(key, ()):
                if note.startswith(stem[:100]):
                    return unescape(note)
        return None


class Items:
    """The items of one batch, nodes before edges, each key once (a key seen again adds its
    properties to the first one's dict). Edges are kept as the store applies them
    (:data:`~twitter_crawler.stores.records.EdgeRecord`), and :meth:`records` gives the whole
    batch so, to be packed."""

    __slots__ = ("_edge_keys", "_index", "accounts", "edges", "media", "tweets")

    def __init__(self) -> None:
        self.accounts: list[Item] = []
        self.tweets: list[Item] = []
        self.media: list[Item] = []
        self.edges: list[EdgeRecord] = []
        self._index: dict[tuple[str, str], Item] = {}
        self._edge_keys: set[tuple[str, str, str, str]] = set()

    def node(self, bucket: list[Item], key: tuple[str, str], item: Item) -> None:
        old = self._index.get(key)
        if old is None:
            self._index[key] = item
            bucket.append(item)
        else:
            old.update(item)

    def edge(self, name: str, source: Key, target_type: str, target: str) -> None:
        key = (name, source[1], target_type, target)
        if key not in self._edge_keys:
            self._edge_keys.add(key)
            self.edges.append((source, name, (target_type, target)))

    def items(self) -> list[Item]:
        """The items and edges as :func:`~twitter_crawler.items.to_dict` makes them."""
        return self.accounts + self.tweets + self.media + [
            {"type": "Edge", "name": name, "source": ref(*source), "target": ref(*target)}
            for source, name, target in self.edges]

    def records(self) -> tuple[list[ItemRecord], list[EdgeRecord]]:
        """The items and edges as the store applies them (:func:`~twitter_crawler.stores.records.pack`)."""
        out: list[ItemRecord] = []
        for bucket in (self.accounts, self.tweets, self.media):
            for item in bucket:
                props = item.copy()
                kind = props.pop("type")
                out.append((kind, props["url"] if kind == "Website" else props["externalId"], props))
        return out, self.edges

    def __len__(self) -> int:
        return len(self.accounts) + len(self.tweets) + len(self.media) + len(self.edges)


class _Seen:
    """Keys already emitted, in two generations of at most ``window`` (as the dedupe pipeline
    keeps them): memory stays bounded at millions of links; a repeat older than that is emitted
    again, which the store's upsert makes a no-op."""

    __slots__ = ("older", "seen", "window")

    def __init__(self, window: int) -> None:
        self.window = window
        self.seen: set[int] = set()
        self.older: set[int] = set()

    def first(self, key: tuple[str, str]) -> bool:
        """Whether ``key`` is new (it is remembered from now on)."""
        h = hash(key)
        if h in self.seen or h in self.older:
            return False
        self.seen.add(h)
        if len(self.seen) >= self.window:
            self.older, self.seen = self.seen, set()
        return True


def _put(item: Item, name: str, value: Any) -> None:
    if value is not None:
        item[name] = value


@dataclass
class ArchiveParser:
    """Turns the records of one archive into items, for its owner ``me``.

    Each item it emits is new to the import: a link, a medium or a quoted tweet that many tweets
    share is emitted once; a mentioned account again only from a newer tweet than the one it was
    emitted from (``tweets.js`` is in no order, and a handle changes: the newest mention's stays),
    never for the owner (``profile.js`` says who the owner is now, an old mention does not).
    """

    me: str
    notes: Notes = field(default_factory=Notes)
    #: Circle (limited-audience) tweets: never imported.
    private_ids: set[str] = field(default_factory=set)
    skipped: list[str] = field(default_factory=list)
    #: Keys remembered per generation (``TWITTER_DEDUPE_WINDOW``).
    window: int = 200_000

    def __post_init__(self) -> None:
        self.me_ref = ref("Account", self.me)
        self._seen = _Seen(self.window)
        # account id → the newest tweet (id) its mention was emitted from.
        self._mentioned: dict[str, int] = {}
        self._apps: dict[str, str | None] = {}  # a tweet's source → its app's name

    # -- the owner -----------------------------------------------------------------------------

    def owner(self, account: Any, profile: Any, manifest_user: Any) -> Item:
        """The owner's Account from ``account.js``, ``profile.js`` and the manifest's
        ``userInfo`` (whichever the archive has). Only public fields are read."""
        acc, user = _d(account), _d(manifest_user)
        description = _d(_d(profile).get("description"))
        website = _s(description.get("website"))
        item: Item = {"type": "Account", "externalId": self.me, "service": SERVICE}
        _put(item, "handle", _s(acc.get("username")) or _s(user.get("userName")))
        _put(item, "displayName", _s(acc.get("accountDisplayName")) or _s(user.get("displayName")))
        _put(item, "description", _s(description.get("bio")))
        _put(item, "location", _s(description.get("location")))
        # A t.co link is not the website: left to the API's expanded one.
        if website and not website.startswith("https://t.co/"):
            item["url"] = website
        _put(item, "avatarUrl", _s(_d(profile).get("avatarMediaUrl")))
        _put(item, "dateJoined", to_iso_utc(acc.get("createdAt")))
        item["isMe"] = True
        return item

    # -- contacts and likes --------------------------------------------------------------------

    def contact(self, name: str, record: Any) -> Item | None:
        """A ``follower`` or ``following`` edge from the owner (``{"accountId": ...}``)."""
        uid = _id(_d(record).get("accountId"))
        if uid is None or not uid.isdigit():
            self.skipped.append(f"{name} without accountId: {str(record)[:80]}")
            return None
        return {"type": "Edge", "name": name, "source": self.me_ref, "target": ref("Account", uid)}

    def like(self, record: Any) -> list[Item]:
        """A minimal Tweet (id, and its text when the archive gives it) and the ``like`` edge."""
        like = _d(record)
        tid = _id(like.get("tweetId"))
        if tid is None or not tid.isdigit():
            self.skipped.append(f"like without tweetId: {str(record)[:80]}")
            return []
        target = ref("Tweet", tid)
        tweet: Item = {"type": "Tweet", "externalId": tid, "service": SERVICE}
        _put(tweet, "message", unescape(like.get("fullText")))
        return [tweet, {"type": "Edge", "name": "like", "source": self.me_ref, "target": target}]

    # -- tweets --------------------------------------------------------------------------------

    def _account(self, c: Items, uid: str, mention: dict[str, Any], when: int) -> None:
        """A mentioned (or retweeted) account, when this tweet is newer than the one it was last
        emitted from."""
        if uid == self.me or self._mentioned.get(uid, -1) >= when:
            return
        self._mentioned[uid] = when
        item: Item = {"type": "Account", "externalId": uid, "service": SERVICE}
        _put(item, "handle", _s(mention.get("screen_name")))
        _put(item, "displayName", _s(mention.get("name")))
        c.node(c.accounts, ("Account", uid), item)

    def _referenced(self, c: Items, tid: str) -> None:
        """A retweeted or quoted tweet known by its id only."""
        if self._seen.first(("Tweet", tid)):
            c.node(c.tweets, ("Tweet", tid), {"type": "Tweet", "externalId": tid, "service": SERVICE})

    def tweet(self, obj: Any, c: Items, files: list[MediaFile]) -> str | None:  # noqa: PLR0912, PLR0915
        """Adds one tweet's items to ``c`` and its media files to ``files``; its id, or ``None``
        when it is skipped (odd, or private)."""
        if type(obj) is not dict:
            self.skipped.append(f"tweet record is not an object: {type(obj).__name__}")
            return None
        tid = _id(obj.get("id_str")) or _id(obj.get("id"))
        if tid is None or not tid.isdigit():
            self.skipped.append(f"tweet without id_str: {str(obj)[:80]}")
            return None
        if tid in self.private_ids:
            return None
        when = int(tid)
        tweet_ref = ("Tweet", tid)
        text = _s(obj.get("full_text")) or _s(obj.get("text")) or ""
        created = to_iso_utc(obj.get("created_at"))
        entities = _d(obj.get("entities"))
        media_list = _l(_d(obj.get("extended_entities")).get("media")) or _l(entities.get("media"))
        # Most tweets mention no one and link nothing: no list made for them.
        mentions = entities.get("user_mentions")
        mentions = [m for m in mentions if type(m) is dict] if type(mentions) is list and mentions else ()
        urls = _l(entities.get("urls"))
        reply_to = _id(obj.get("in_reply_to_status_id_str")) or _id(obj.get("in_reply_to_status_id"))
        if reply_to == "-1":
            reply_to = None

        retweet = _RT.match(text)
        referenced: str | None = None
        if retweet:
            tweet_type = "retweet"
            message = unescape(text[retweet.end():])
            for m in media_list:
                if type(m) is dict and _id(m.get("source_status_id_str")):
                    referenced = m["source_status_id_str"]
                    break
        else:
            message = self.notes.full_text(created, text) or (
                html.unescape(text) if "&" in text else text)
            for link in urls:
                found = _STATUS_URL.match(_s(_d(link).get("expanded_url")) or "")
                if found and found[1] != tid:
                    referenced = found[1]
                    break
            tweet_type = "quote" if referenced else "reply" if reply_to else "tweet"

        # (Tests inlined, not _put: this runs for every tweet of the archive.)
        item: Item = {"type": "Tweet", "externalId": tid, "service": SERVICE, "message": message}
        if created is not None:
            item["postDate"] = created
        item["tweetType"] = tweet_type
        if (lang := _s(obj.get("lang"))) is not None:
            item["lang"] = lang
        source = obj.get("source")
        # A few apps post all of an account's tweets: each source's name is worked out once.
        app = self._apps.get(source) if type(source) is str else None
        if app is None:
            app = source_name(source)
            if type(source) is str and len(self._apps) < _APPS_KEPT:
                self._apps[source] = app
        if app is not None:
            item["source"] = app
        if reply_to is not None:
            item["inReplyToId"] = reply_to
        c.node(c.tweets, ("Tweet", tid), item)
        c.edge("author", tweet_ref, "Account", self.me)

        if retweet:
            # The retweeted tweet, when the archive names it: its author (the mention at 3) and
            # the reference. Media, links and mentions belong to it, as in the API import.
            if referenced:
                self._referenced(c, referenced)
                c.edge("reference", tweet_ref, "Tweet", referenced)
                handle = retweet[1].lower()
                for m in mentions:
                    uid = _id(m.get("id_str"))
                    if uid and uid != "-1" and (_s(m.get("screen_name")) or "").lower() == handle:
                        self._account(c, uid, m, when)
                        c.edge("author", ("Tweet", referenced), "Account", uid)
                        break
            return tid
        if referenced:
            self._referenced(c, referenced)
            c.edge("reference", tweet_ref, "Tweet", referenced)

        for m in mentions:
            uid = _id(m.get("id_str"))
            if uid is None or uid == "-1":
                continue
            self._account(c, uid, m, when)
            c.edge("mention", tweet_ref, "Account", uid)

        for m in media_list:
            self._medium(tid, tweet_ref, m, c, files)

        if not urls:
            return tid
        media_urls = {_s(m.get("url")) for m in media_list if type(m) is dict}
        media_urls.discard(None)
        self_link = "/status/" + tid
        for link in urls:
            if type(link) is not dict:
                continue
            url = _s(link.get("expanded_url"))
            if not url or _s(link.get("url")) in media_urls or self_link in url:
                continue
            if referenced and _STATUS_URL.match(url):
                continue  # the quoted tweet: a reference, not a link
            if self._seen.first(("Website", url)):
                site: Item = {"type": "Website", "url": url}
                _put(site, "displayUrl", _s(link.get("display_url")))
                c.node(c.media, ("Website", url), site)
            c.edge("link", tweet_ref, "Website", url)
        return tid

    def _medium(self, tid: str, tweet_ref: Key, m: Any, c: Items,
                files: list[MediaFile]) -> None:
        if type(m) is not dict:
            return
        mid = _id(m.get("id_str"))
        if mid is None:
            self.skipped.append(f"media of tweet {tid} without id_str")
            return
        kind = m.get("type")
        image = _s(m.get("media_url_https")) or _s(m.get("media_url"))
        item: Item
        if kind == "photo":
            large = _d(_d(m.get("sizes")).get("large"))
            item = {"type": "Photo", "externalId": mid}
            _put(item, "url", image)
            _put(item, "width", _int(large.get("w")))
            _put(item, "height", _int(large.get("h")))
        elif kind in ("video", "animated_gif"):
            info = _d(m.get("video_info"))
            item = {"type": "Video", "externalId": mid}
            _put(item, "url", best_variant(info.get("variants")))
            _put(item, "thumbnailUrl", image)
            _put(item, "durationMs", _int(info.get("duration_millis")))
            item["isGif"] = kind == "animated_gif"
        else:
            self.skipped.append(f"media {mid} of tweet {tid}: unknown type {kind!r}")
            return
        key = (item["type"], mid)
        if self._seen.first(key):
            c.node(c.media, key, item)
            files.append(MediaFile(ref(item["type"], mid), tid, media_file_names(tid, m),
                                   item.get("url")))
        c.edge(item["type"].lower(), tweet_ref, item["type"], mid)
