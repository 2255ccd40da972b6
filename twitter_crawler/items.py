"""The items a crawl produces: Memri's Twitter data model (PRODUCT.md §4).

Every public item is exported with a ``type`` field, ids are Twitter's ``id_str`` strings and
dates are ISO 8601 UTC strings (``2016-07-16T04:17:02Z``). Properties that the payload does not
carry are ``None`` and are left out of exports and of the store (an update never erases a value
with ``None``).

Items are upserts keyed as follows (see :func:`item_key`):

* ``Account``, ``Tweet``, ``Photo``, ``Video``, ``File``: by ``externalId`` (a File's is its
  sha256; a profile picture's Photo has ``avatar:`` and the picture's path as its own);
* ``Website``: by ``url``;
* ``Edge``: by ``(source, name, target)``.

An ``Account`` can be seen twice in one crawl: first as a minimal mention (``externalId``,
``handle``, ``displayName``), later with its full profile. The second one is not a duplicate: it
adds properties.

Rules of the parsers (both API versions):

* a retweet's ``message`` is the retweeted tweet's full text; the retweeted tweet and its author
  are items of their own, linked by a ``reference`` edge; the retweet itself carries no media,
  link or mention edges (they belong to the original);
* a quote has a ``reference`` edge to the quoted tweet when the payload embeds it;
* a reply has ``inReplyToId``; its ``reference`` edge exists only when the replied-to tweet is in
  the payload (never in v1.1, whose payloads do not embed it);
* ``tweetType`` is ``retweet``, else ``quote``, else ``reply``, else ``tweet``.

The internal items (:class:`TimelineWatermark`, :class:`ContactsPage`) carry bookkeeping from the
spider to the store through the same ordered stream as the data, so that a watermark is never
committed before the tweets it covers. They are not exported.

The spider hands Scrapy the items of one API answer together, as one :class:`Answer`: Scrapy's
per-item path (spider-middleware chain, ``item_scraped`` signal, log record, tasks) costs more
than parsing and storing a tweet, and a tweet makes about five items. Pipelines, extensions and
feed exports look inside with :func:`unpack`; exports still get one record per item.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import urlsplit, urlunsplit

from twitter_crawler.stores.records import packed_dicts

if TYPE_CHECKING:
    from twitter_crawler.stores.records import Packed

SERVICE = "twitter"

#: Marks a property that holds a date: an ISO 8601 UTC string here and in exports, a ``DateTime``
#: in the Pod (whose schema is derived from these classes, see ``stores/podschema.py``).
DATETIME = "DateTime"
IsoDateTime = Annotated[str, DATETIME]


@dataclass(slots=True)
class Account:
    externalId: str
    service: str = SERVICE
    handle: str | None = None
    displayName: str | None = None
    description: str | None = None
    location: str | None = None
    url: str | None = None
    avatarUrl: str | None = None
    followersCount: int | None = None
    followingCount: int | None = None
    tweetCount: int | None = None
    listedCount: int | None = None
    verified: bool | None = None
    protected: bool | None = None
    dateJoined: IsoDateTime | None = None
    isMe: bool | None = None
    type: str = field(default="Account", init=False)


@dataclass(slots=True)
class Tweet:
    externalId: str
    service: str = SERVICE
    message: str | None = None
    postDate: IsoDateTime | None = None
    tweetType: str | None = None
    lang: str | None = None
    source: str | None = None
    retweetCount: int | None = None
    likeCount: int | None = None
    inReplyToId: str | None = None
    replyCount: int | None = None
    conversationId: str | None = None
    # v2's public_metrics only (v1.1 sends none of them to self-serve apps):
    quoteCount: int | None = None
    bookmarkCount: int | None = None
    impressionCount: int | None = None
    type: str = field(default="Tweet", init=False)


@dataclass(slots=True)
class Photo:
    externalId: str
    url: str | None = None
    width: int | None = None
    height: int | None = None
    type: str = field(default="Photo", init=False)


@dataclass(slots=True)
class Video:
    externalId: str
    url: str | None = None
    thumbnailUrl: str | None = None
    durationMs: int | None = None
    isGif: bool | None = None
    type: str = field(default="Video", init=False)


@dataclass(slots=True)
class File:
    """The bytes of a downloaded photo, video or profile picture, stored once per content.

    ``externalId`` is the ``sha256`` (hex), so two media with the same bytes share one File; the
    bytes themselves are in the store's file area (see ``stores``), not in the item.
    """

    externalId: str
    sha256: str
    size: int
    mimeType: str | None = None
    url: str | None = None  # the URL it was first downloaded from
    type: str = field(default="File", init=False)


@dataclass(slots=True)
class Website:
    url: str
    displayUrl: str | None = None
    type: str = field(default="Website", init=False)


@dataclass(slots=True)
class Edge:
    """``source`` and ``target`` are references: ``{"type": ..., "externalId": ...}``, or
    ``{"type": "Website", "url": ...}``."""

    name: str
    source: dict[str, str]
    target: dict[str, str]
    type: str = field(default="Edge", init=False)


#: Prefix of the watermark of a walk that reads only an account's newest tweets (a followed
#: account's ``following_tweets``): it says nothing of the older ones, so the walk of that
#: account's whole timeline (its own import, another day) never starts from it.
RECENT = "recent:"


def watermark_key(user_id: str, *, whole: bool) -> str:
    """The watermark a timeline walk of ``user_id`` stores: ``whole`` for the account's own
    timeline (everything the API serves), else its newest tweets only."""
    return user_id if whole else RECENT + user_id


@dataclass(slots=True)
class TimelineWatermark:
    """A timeline walk is complete: the next run asks only for tweets newer than ``sinceId``.
    ``userId`` is the account's id for a walk of its whole timeline, ``recent:<id>`` for a walk
    of its newest tweets only (:func:`watermark_key`)."""

    userId: str
    sinceId: str
    type: str = field(default="_TimelineWatermark", init=False)


@dataclass(slots=True)
class ContactsPage:
    """One page of a followers/followings walk (``name`` is ``follower`` or ``following``).

    ``walkId`` is the same on every page of one walk. When ``complete`` is true, the whole list
    was read: edges of ``name`` from ``source`` to accounts not listed in the walk are removed.
    """

    source: str
    name: str
    walkId: str
    targets: list[str]
    complete: bool = False
    type: str = field(default="_ContactsPage", init=False)


@dataclass(slots=True)
class Answer:
    """The items of one API answer, in the order the spider made them.

    ``known``: the items are already stored and travel only so that their media files are
    fetched (the media pipeline passes on just the new File items and edges).

    ``distinct``: the items are already the plain dicts of :func:`to_dict`, each new to the crawl
    (the archive's parser checks that itself, where it is cheap): the dedupe pipeline passes them
    as they are.
    """

    items: list[Any]
    known: bool = False
    distinct: bool = False
    type: str = field(default="_Answer", init=False)


@dataclass(slots=True)
class MediaDownloads:
    """Photos and Videos (dicts) whose files the media pipeline downloads, sent through the item
    pipelines on their own so that the answer they came in never waits for them. The media
    pipeline turns it into an :class:`Answer` of the File items and ``file`` edges it made."""

    items: list[dict[str, Any]]
    type: str = field(default="_MediaDownloads", init=False)


class PackedAnswer(Answer):
    """An :class:`Answer` (``distinct``) whose data items travel packed
    (:class:`~twitter_crawler.stores.records.Packed`, the archive import's), followed by
    ``extra`` items as usual (File items, a watermark).

    The store pipeline hands the packed run to the store as it is. Reading :attr:`items` (an
    export, a pipeline of the user's) decodes it into the dicts of :func:`to_dict`, and from
    then on those dicts are what the store gets: whatever a component changes in them is kept.
    """

    __slots__ = ("_items", "extra", "packed")

    def __init__(self, packed: Packed, extra: list[Any]) -> None:
        self.packed: Packed | None = packed
        self.extra = extra
        self._items: list[Any] | None = None
        self.known = False
        self.distinct = True
        self.type = "_Answer"

    @property
    def items(self) -> list[Any]:
        if self._items is None:
            decoded = packed_dicts(self.packed) if self.packed is not None else []
            self._items = decoded + self.extra
            self.packed = None  # opened: the dicts, perhaps changed, are what counts now
        return self._items

    @items.setter
    def items(self, value: list[Any]) -> None:
        self._items = value
        self.packed = None


def unpack(item: Any) -> list[Any]:
    """The items inside an :class:`Answer`, or the item itself."""
    return item.items if isinstance(item, Answer) else [item]


def bookkeeping(item: Any) -> list[Any]:
    """The items inside an item that may be internal (:data:`InternalItem`), without decoding
    a :class:`PackedAnswer`'s packed run (data items only)."""
    if isinstance(item, PackedAnswer) and item.packed is not None:
        return item.extra
    return unpack(item)


DataItem = Account | Tweet | Photo | Video | Website | File
InternalItem = TimelineWatermark | ContactsPage | MediaDownloads
PUBLIC_TYPES = ("Account", "Tweet", "Photo", "Video", "Website", "File", "Edge")

#: The edges of the model, ``(source type, name, target type)``: the store's schema declares them.
EDGES: tuple[tuple[str, str, str], ...] = (
    ("Account", "following", "Account"),
    ("Account", "follower", "Account"),
    ("Account", "profilePicture", "Photo"),
    ("Account", "like", "Tweet"),
    ("Tweet", "author", "Account"),
    ("Tweet", "reference", "Tweet"),
    ("Tweet", "mention", "Account"),
    ("Tweet", "photo", "Photo"),
    ("Tweet", "video", "Video"),
    ("Tweet", "link", "Website"),
    ("Photo", "file", "File"),
    ("Video", "file", "File"),
)


def ref(item_type: str, key: str) -> dict[str, str]:
    """A reference to an item, as used in edges."""
    if item_type == "Website":
        return {"type": "Website", "url": key}
    return {"type": item_type, "externalId": key}


def ref_key(reference: dict[str, str]) -> tuple[str, str]:
    return reference["type"], reference.get("externalId") or reference["url"]


def item_key(item: Any) -> tuple[str, ...]:
    """The identity of an item or edge, as the store enforces it."""
    kind = item.type
    if kind == "Edge":
        return ("Edge", *ref_key(item.source), item.name, *ref_key(item.target))
    if kind == "Website":
        return ("Website", item.url)
    return (kind, item.externalId)


def to_dict(item: Any) -> dict[str, Any]:
    """The item as a plain dict without ``None`` values, ``type`` first."""
    out: dict[str, Any] = {"type": item.type}
    for name in item.__slots__:
        if name == "type":
            continue
        value = getattr(item, name)
        if value is not None:
            out[name] = value
    return out


#: A profile picture's Photo is keyed by this prefix and the picture's path (:func:`avatar_key`).
AVATAR_PREFIX = "avatar:"
_AVATAR_SIZE = re.compile(r"_(normal|bigger|mini|reasonably_small|\d+x\d+)(?=(\.[A-Za-z0-9]+)?$)")


def original_avatar_url(url: str) -> str:
    """A profile picture URL without its size suffix (``…_normal.jpg`` → ``….jpg``)."""
    parts = urlsplit(url)
    head, _, name = parts.path.rpartition("/")
    return urlunsplit(parts._replace(path=f"{head}/{_AVATAR_SIZE.sub('', name, count=1)}"))


def avatar_key(url: str) -> str:
    """The Photo externalId of a profile picture: the same for every size and host."""
    original = original_avatar_url(url)
    path = urlsplit(original).path
    at = path.find("profile_images/")
    return AVATAR_PREFIX + (path[at:] if at >= 0 else original)
