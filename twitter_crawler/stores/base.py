"""The interface every store implements, and the factory that picks one from ``POD_URL``.

Stores are plain, blocking classes: the store pipeline calls them from one worker thread, one
call at a time, never from the reactor thread. A store never sees a secret it would write: keys
are given to it, used for transport, and kept out of its ``describe()``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from twitter_crawler.stores.records import Packed


class StoreError(Exception):
    """The store cannot take the batch now (unreachable, refusing writes). Retried with backoff."""


class StoreConfigError(Exception):
    """The store cannot be used at all (malformed ``POD_URL``, a corrupt or foreign SQLite file,
    a missing extra). The message says what is wrong and what to do; the crawl does not start."""


@dataclass
class Batch:
    """What the pipeline hands to a store in one call, in the order the crawl produced it.

    ``items`` are dicts as :func:`twitter_crawler.items.to_dict` makes them (``type`` plus
    properties, no ``None`` values), or :class:`~twitter_crawler.stores.records.Packed` runs of
    items and edges (the archive import's); ``edges`` are dicts too. ``watermarks`` maps a user id
    to its new ``since_id``; ``contact_pages`` are :class:`~twitter_crawler.items.ContactsPage`
    dicts. A store applies a batch atomically: all of it, or nothing and :class:`StoreError`.
    """

    items: list[dict[str, Any] | Packed] = field(default_factory=list)
    edges: list[dict[str, Any]] = field(default_factory=list)
    watermarks: dict[str, str] = field(default_factory=dict)
    contact_pages: list[dict[str, Any]] = field(default_factory=list)
    #: The items and edges inside the :class:`~twitter_crawler.stores.records.Packed` runs of
    #: ``items``, beyond the one entry each takes there.
    packed: int = 0

    def add_packed(self, packed: Packed) -> None:
        """Items and edges packed by the archive's reading process, in their place in
        ``items``."""
        self.items.append(packed)
        self.packed += packed.size - 1

    def __len__(self) -> int:
        return (len(self.items) + len(self.edges) + len(self.watermarks) + len(self.contact_pages)
                + self.packed)


@dataclass
class WriteResult:
    """What a batch changed: counts per item type (``Account``, ``Tweet``, ...)."""

    created: Counter[str] = field(default_factory=Counter)
    updated: Counter[str] = field(default_factory=Counter)
    unchanged: Counter[str] = field(default_factory=Counter)
    edges_created: Counter[str] = field(default_factory=Counter)  # by edge name
    edges_removed: Counter[str] = field(default_factory=Counter)

    def add(self, other: WriteResult) -> None:
        for name in ("created", "updated", "unchanged", "edges_created", "edges_removed"):
            getattr(self, name).update(getattr(other, name))


@dataclass
class MediaState:
    """What a store knows of media files, read once when a crawl opens it.

    ``done``: ``(type, externalId)`` of the Photos and Videos that have a ``file`` edge.
    ``pending``: dicts of the stored Photos and Videos without one (``type``, ``externalId``,
    ``url``) and of the Accounts with an ``avatarUrl`` but no ``profilePicture`` edge (``type``,
    ``externalId``, ``avatarUrl``): what an earlier run could not download, or did not try.
    """

    done: set[tuple[str, str]] = field(default_factory=set)
    pending: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class ContactsState:
    """What a store knows of the followers and followings lists, read once when a crawl opens it.

    ``full_reads``: ``(account id, "follower"|"following")`` → when that list was last read in
    full (a complete walk, :class:`~twitter_crawler.items.ContactsPage` ``complete``), in
    seconds since the epoch on the store's clock. A list never read in full is absent.
    ``targets``: the same keys → the account ids the store holds an edge of that name to.
    """

    full_reads: dict[tuple[str, str], float] = field(default_factory=dict)
    targets: dict[tuple[str, str], set[str]] = field(default_factory=dict)


class Store(ABC):
    """A Pod-shaped store: items with a type, a key and properties; edges (source, name, target)."""

    #: :meth:`put_file` calls worth making at once, from as many threads: a Pod's uploads wait
    #: on the network; a local file system gains nothing from more than one (see SQLiteStore).
    file_writers: int = 4

    @abstractmethod
    def open(self) -> None:
        """Connect, check and prepare (schema). Raises :class:`StoreConfigError` or
        :class:`StoreError`."""

    @abstractmethod
    def watermarks(self) -> dict[str, str]:
        """Every stored timeline watermark: user id → since_id."""

    @abstractmethod
    def contacts_state(self) -> ContactsState:
        """When each followers/followings list was last read in full, and its stored edges."""

    @abstractmethod
    def write(self, batch: Batch) -> WriteResult:
        """Apply the batch atomically. Items are upserts: new properties are added, changed ones
        replaced, missing ones kept. Edges are created once. A complete contacts page removes
        the edges its walk did not list and records the list as read in full now."""

    @abstractmethod
    def media_state(self) -> MediaState:
        """Which media already have their file, and which stored ones still lack it."""

    @abstractmethod
    def put_file(self, sha256: str, data: bytes) -> None:
        """Keep the bytes of a File, addressed by their sha256; a second put is a no-op."""

    @abstractmethod
    def close(self) -> None: ...

    @abstractmethod
    def describe(self) -> str:
        """Where the data goes, for people: a path or a URL without any key."""


def open_store(
    url: str,
    *,
    owner_key: str = "",
    database_key: str = "",
    auth_json: dict[str, Any] | None = None,
    offline: bool = False,
) -> Store:
    """Builds the store named by ``POD_URL`` (not opened yet). ``auth_json`` is the Pod's
    PluginAuth (``POD_AUTH_JSON``, inside the Pod), used in place of the database key.
    ``offline``: the crawl sends no request (an archive import) and produces items as fast as
    one core parses them; a SQLite store then writes from a process of its own."""
    if url.startswith("sqlite:///"):
        from twitter_crawler.stores.sqlite import SQLiteStore

        path = url[len("sqlite:///") :]
        if not path:
            raise StoreConfigError(
                f"POD_URL={url!r} names no file: use sqlite:///path/to/pod.sqlite3"
            )
        return SQLiteStore(path, writer_process=offline)
    if url.startswith(("postgresql://", "postgres://")):
        # psycopg is imported when the store opens: a missing extra is a StoreConfigError there.
        from twitter_crawler.stores.postgres import PostgresStore

        return PostgresStore(url)
    if url.startswith(("http://", "https://")):
        try:
            from twitter_crawler.stores.pod import PodStore
        except ImportError as exc:
            raise StoreConfigError(
                f"POD_URL={url!r} is a real Pod, which needs pymemri: "
                "install the extra with  pip install -e '.[pod]'"
            ) from exc
        return PodStore(
            url, owner_key=owner_key, database_key=database_key, auth_json=auth_json
        )
    raise StoreConfigError(
        f"POD_URL={url!r} is not a store address: use sqlite:///path/to/pod.sqlite3 "
        "for the embedded store, postgresql://user:password@host:port/database for a shared "
        "PostgreSQL store or http(s)://host:port for a Pod"
    )
