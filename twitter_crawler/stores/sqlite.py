"""The embedded store: one SQLite file shaped like the Pod's own database.

``POD_URL=sqlite:///path/to/pod.sqlite3`` (the default) writes here. The layout follows the Pod
(items with a type, an id and properties; edges ``(source, name, target)`` between items) plus
the importer's bookkeeping:

``items``
    ``rowid``, ``id`` (the Pod id the real Pod would get, see :mod:`.ids`), ``type``, ``key``
    (``externalId``, or ``url`` for a ``Website``; unique per type), ``properties`` (JSON object,
    ``type`` left out), ``dateCreated`` and ``dateModified`` (milliseconds since the epoch, as in
    the Pod).
``edges``
    ``source`` and ``target`` (``items.rowid``), ``name``, ``dateCreated``; unique on
    ``(source, name, target)``. The view ``edge_keys`` shows them with types and keys.
``watermarks``
    ``userId`` → ``sinceId`` of the last complete timeline walk.
``contact_walks``, ``contact_walk_targets``
    the accounts listed so far by each unfinished followers/followings walk.
``contact_reads``
    ``source`` (account id), ``name`` (``follower``/``following``) → ``dateRead``: when that
    list was last read in full (its walk completed), in milliseconds since the epoch. Added on
    opening to a file of an earlier release that lacks it (an additive change: schema 1 still).
``<name>.files/``
    beside ``<name>.sqlite3``: the bytes of File items, at ``<sha256[:2]>/<sha256>``
    (content-addressed: a file used twice is kept once).
``meta``
    ``application`` and ``schema_version`` (also in ``PRAGMA application_id`` and
    ``user_version``), so that a later release can recognise and migrate the file.

An offline import (``scrapy crawl archive``, ``writer_process=True``) writes from a child process
(:class:`_WriterProcess`), one batch at a time as before: the parent parses and runs Scrapy's
pipelines on one core while the child merges and writes on the other (in one process both are
Python and share one GIL: the store's writes doubled the import's time). Reads stay in the parent.

A writer looks up only what may be stored: the keys of the batch's items (with their
properties, to merge into) and the rowids of the edges' other ends, less the keys its filter
rules out (:class:`_KeyFilter`, built in its first write transaction and dropped when another
connection has written since its last) and the ends whose rowid it remembers. A fresh import
looks up almost nothing.

Each :meth:`SQLiteStore.write` is one transaction (``BEGIN IMMEDIATE`` … ``COMMIT``): a batch is
stored whole or not at all. The file is in WAL mode, so ``sqlite3 pod.sqlite3`` or ``scrapy store``
can read it while a crawl writes.

Several crawl processes on one machine may write into one file at once: ``BEGIN IMMEDIATE`` takes
the write lock before the batch reads what it merges into (so no other writer changes those rows
in between, and the next ``rowid`` is computed under the lock), a writer that finds the lock
taken waits for it up to 30 seconds (the connection's busy timeout), and a batch that still gets
``SQLITE_BUSY`` is a :class:`StoreError`, which the store pipeline retries with backoff
(``POD_RETRY_TIMES``). Two processes creating a new file at once are serialized the same way
(:meth:`SQLiteStore._create`). Across machines, use the PostgreSQL store (:mod:`.postgres`):
SQLite's locks do not work on network file systems.
"""

from __future__ import annotations

import gc
import json
import os
import sqlite3
import stat
import threading
import time
from contextlib import suppress
from dataclasses import dataclass
from itertools import chain, count, groupby, repeat, starmap
from operator import attrgetter, itemgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from twitter_crawler import spawn
from twitter_crawler.stores.base import (
    Batch,
    ContactsState,
    MediaState,
    Store,
    StoreConfigError,
    StoreError,
    WriteResult,
)
from twitter_crawler.stores.ids import pod_id
from twitter_crawler.stores.records import (
    BadBatch,
    Key,
    Page,
    Records,
    dumps_properties,
    loads_properties,
    merge,
    minimal_properties,
    newer_since_id,
    read_batch,
)
from twitter_crawler.stores.relational import contacts_state, media_state

if TYPE_CHECKING:
    from collections import Counter
    from collections.abc import Collection, Iterable, Iterator

#: ``PRAGMA application_id`` of a twitter_crawler store: "TWCP" in ASCII.
APPLICATION_ID = 0x54574350
APPLICATION = "twitter_crawler"
#: The layout this release writes. A file with a higher version was written by a newer release.
SCHEMA_VERSION = 1

_SQLITE_HEADER = b"SQLite format 3\x00"
#: The table a store of an earlier release lacks: created when the file is opened for writing.
_CONTACT_READS = """
CREATE TABLE IF NOT EXISTS contact_reads (
    source TEXT NOT NULL,
    name TEXT NOT NULL,
    dateRead INTEGER NOT NULL,
    PRIMARY KEY (source, name)
) WITHOUT ROWID
"""
_CHUNK = 500  # keys per "IN (...)" lookup, well under SQLite's variable limit
#: The WAL is folded back into the file once it holds about this many bytes (10,000 pages of
#: 4 KB, 2,500 of 16 KB), by SQLite's own checkpoints (``wal_autocheckpoint`` in
#: :meth:`SQLiteStore._prepare`); the writer process's checkpointer (:class:`_Checkpointer`)
#: copies it every :data:`_CHECKPOINT_POLL` seconds instead.
_CHECKPOINT_BYTES = 10_000 * 4096
#: Bytes per page of a new store's file (``PRAGMA page_size``, see :meth:`SQLiteStore._create`).
_PAGE_SIZE = 16384
#: Seconds between two copies of what the writer process committed (:class:`_Checkpointer`).
_CHECKPOINT_POLL = 0.25
#: The writer process's WAL starts again once it holds this many bytes (:class:`_Checkpointer`):
#: on disk beside the store while it writes, gone once it is closed.
_WAL_RESTART_BYTES = 256 * 1024 * 1024
#: Bits of the writer's key filter (:class:`_KeyFilter`): 4 MiB. With a million keys stored, one
#: absent key in 32 still gets its look-up.
_FILTER_BITS = 1 << 25
#: A store with more items than this gets no key filter (its build would scan them all, and one
#: absent key in 8 would be looked up anyway); one that grows past it while written drops it.
_FILTER_MAX_KEYS = 4_000_000
#: Another writer's commits make the filter stale: it is built again, at once the first time,
#: then after at most this many batches without another writer's commit (twice as many after
#: each, up to this), so that two crawls writing into one file do not each scan it every batch.
_FILTER_MAX_WAIT = 64
#: Edge ends (``(type, key)`` → ``rowid``) the writer remembers from one batch to the next: the
#: owner's Account is the author of every tweet of an archive.
_END_CACHE_SIZE = 4096

_SCHEMA = """
CREATE TABLE meta (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE items (
    rowid INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    type TEXT NOT NULL,
    key TEXT NOT NULL,
    properties TEXT NOT NULL,
    dateCreated INTEGER NOT NULL,
    dateModified INTEGER NOT NULL,
    UNIQUE (type, key)
);
CREATE TABLE edges (
    source INTEGER NOT NULL REFERENCES items (rowid),
    name TEXT NOT NULL,
    target INTEGER NOT NULL REFERENCES items (rowid),
    dateCreated INTEGER NOT NULL,
    PRIMARY KEY (source, name, target)
) WITHOUT ROWID;
CREATE INDEX edges_by_target ON edges (target, name);
CREATE TABLE watermarks (
    userId TEXT PRIMARY KEY,
    sinceId TEXT NOT NULL,
    dateModified INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE contact_walks (
    rowid INTEGER PRIMARY KEY,
    walkId TEXT NOT NULL UNIQUE,
    source TEXT NOT NULL,
    name TEXT NOT NULL,
    dateCreated INTEGER NOT NULL
);
CREATE INDEX contact_walks_by_source ON contact_walks (source, name);
CREATE TABLE contact_walk_targets (
    walk INTEGER NOT NULL REFERENCES contact_walks (rowid),
    target TEXT NOT NULL,
    PRIMARY KEY (walk, target)
) WITHOUT ROWID;
CREATE VIEW edge_keys AS
    SELECT s.type AS sourceType, s.key AS sourceKey, e.name AS name,
           t.type AS targetType, t.key AS targetKey, e.dateCreated AS dateCreated
    FROM edges AS e
    JOIN items AS s ON s.rowid = e.source
    JOIN items AS t ON t.rowid = e.target;
"""


@dataclass(slots=True)
class _Row:
    rowid: int | None
    properties: dict[str, Any]
    dirty: bool = False


class _KeyFilter:
    """Which ``(type, key)`` the store may hold: a bitmap of ``hash((type, key))`` (one bit per
    key) of every key stored when it was built and of every key the writer inserted since. A
    key whose bit is clear is certainly not stored, so the writer does not look it up; one whose
    bit is set (stored, or another key's bit) is looked up as before. A key inserted in a batch
    that was rolled back keeps its bit: one more look-up, never a wrong answer.

    Valid only as long as this connection is the file's only writer: ``PRAGMA data_version``
    (which changes when another connection commits) is read at the start of each batch, inside
    its write transaction, and a change makes the writer drop the filter (:meth:`SQLiteStore.
    _check_filter`). Python's ``hash`` of a str is salted per process: the filter lives and dies
    with its process.
    """

    __slots__ = ("bits", "keys", "mask")

    def __init__(self, size: int = _FILTER_BITS) -> None:
        self.bits = bytearray(size >> 3)
        self.mask = size - 1
        self.keys = 0  # keys added (not distinct ones): past _FILTER_MAX_KEYS it is dropped

    def add(self, keys: Iterable[Key]) -> None:
        bits, mask = self.bits, self.mask
        count = 0
        for full in map(hash, keys):
            h = full & mask
            bits[h >> 3] |= 1 << (h & 7)
            count += 1
        self.keys += count

    def maybe(self, keys: Iterable[Key]) -> list[Key]:
        """The keys of ``keys`` that may be stored."""
        bits, mask = self.bits, self.mask
        found = []
        for key in keys:
            h = hash(key) & mask
            if bits[h >> 3] >> (h & 7) & 1:
                found.append(key)
        return found


#: How put_file makes a file: under its final name, only if none has it.
_NEW_FILE = os.O_WRONLY | os.O_CREAT | os.O_EXCL


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _now_ms() -> int:
    return int(time.time() * 1000)


_first, _second, _third = itemgetter(0), itemgetter(1), itemgetter(2)
_rowid_of = attrgetter("rowid")


def _dumps_all(values: list[Any]) -> list[str]:
    """:func:`dumps_properties` of each value (a value that is already JSON text, a packed item's, as it
    is): in C, unless one needs json's fallback."""
    if any(type(value) is str for value in values):
        return [value if type(value) is str else dumps_properties(value) for value in values]
    try:
        return list(map(bytes.decode, map(orjson.dumps, values)))
    except TypeError:
        return list(map(dumps_properties, values))


#: Item type → the prefix of the Pod ids of its raw keys (``Tweet`` → ``tw-tweet-``): the id
#: :func:`pod_id` gives the key ``0``, less that key. A type whose ids are hashes (``Website``)
#: has none.
_ID_PREFIXES: dict[str, str | None] = {}


def _pod_ids(keys: list[Key]) -> list[str]:
    """:func:`pod_id` of each key. A key of ASCII digits keeps its raw form in the id (the
    rule of :mod:`.ids`, checked against :func:`pod_id` by the tests): made here without its
    regular expression, at half its cost (0.8 µs instead of 1.6 µs a tweet id, on the loaded
    2-core machine of 2026-12-02; the keys of the 200k-tweet archive 1.36 µs instead of 1.96 µs,
    their Websites' and media keys' ids still pod_id's)."""
    prefixes = _ID_PREFIXES
    ids = []
    for kind, key in keys:
        prefix = prefixes.get(kind, "")
        if prefix == "":
            zero = pod_id(kind, "0")
            prefixes[kind] = prefix = zero[:-1] if zero.endswith("-0") else None
        if prefix is not None and key.isdigit() and key.isascii() and len(prefix) + len(key) <= 36:
            ids.append(prefix + key)
        else:
            ids.append(pod_id(kind, key))
    return ids


def _chunks(values: list[Any], size: int = _CHUNK) -> Iterator[list[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


class SQLiteStore(Store):
    """The embedded store in the SQLite file ``path`` (created with its directory if missing).

    With ``readonly=True`` (``scrapy store``), the file must exist and is never written.
    """

    #: Two at a time: creating a file is mostly the kernel's work (about 200 us here), which a
    #: second thread does on the other core while the first waits (the archive import of 47,860
    #: files: 19.8-23.2 s instead of 21.2-29.1 s, five alternating pairs, no more CPU in all).
    #: Four took half as much CPU again (the kernel's locks), for no shorter wall time.
    file_writers = 2

    def __init__(
        self, path: str | Path, *, readonly: bool = False, writer_process: bool = False
    ) -> None:
        self.path = Path(path).expanduser()
        self.readonly = readonly
        self.writer_process = writer_process and not readonly
        #: The writer process's WAL starts again once it holds this many pages.
        #: (``None``: :data:`_WAL_RESTART_BYTES` of the file's pages.)
        self.checkpoint_pages: int | None = None
        #: Seconds between two looks of the writer process's checkpointer (``None``:
        #: :data:`_CHECKPOINT_POLL`).
        self.checkpoint_poll: float | None = None
        self._writer: _WriterProcess | None = None
        # Folders of the file area put_file has made or found.
        self._folders: set[str] = set()
        self._files_root = str(self.files_dir)
        self._conn: sqlite3.Connection | None = None
        # Calls come one at a time from the pipeline's worker thread, but not always the same
        # thread: the connection is shared (check_same_thread=False) and guarded.
        self._lock = threading.RLock()
        #: Bits of the key filter that spares look-ups of keys not stored (:class:`_KeyFilter`);
        #: 0: every key is looked up.
        self.filter_bits = _FILTER_BITS
        self._filter: _KeyFilter | None = None
        self._data_version: int | None = None  # PRAGMA data_version as of our last batch
        self._filter_wait = 0  # batches without another writer's commit before a rebuild
        self._filter_quiet = 0  # batches since another writer's last commit
        #: Edge ends whose rowid is remembered from batch to batch; 0: none.
        self.end_cache_size = _END_CACHE_SIZE
        self._ends: dict[Key, int] = {}
        #: What the writer spared: keys not looked up because the filter rules them out, edge
        #: ends whose rowid was remembered, and how often the filter was built.
        self.lookups_skipped = 0
        self.lookups_cached = 0
        self.filter_builds = 0

    # -- lifecycle -----------------------------------------------------------------------------

    def describe(self) -> str:
        return f"SQLite store {self.path.resolve()}"

    def open(self) -> None:
        with self._lock:
            if self._conn is not None:
                return
            self._check_file()
            try:
                if self.readonly:
                    conn = sqlite3.connect(
                        f"{self.path.resolve().as_uri()}?mode=ro",
                        uri=True,
                        timeout=30.0,
                        isolation_level=None,
                        check_same_thread=False,
                    )
                else:
                    conn = sqlite3.connect(
                        self.path, timeout=30.0, isolation_level=None, check_same_thread=False
                    )
            except sqlite3.Error as exc:
                raise self._config_error(exc) from None
            try:
                self._prepare(conn)
            except BaseException as exc:
                conn.close()
                if isinstance(exc, sqlite3.Error):
                    raise self._open_error(exc) from None
                raise
            self._conn = conn
            # What an earlier connection knew: its data_version is not this one's.
            self._filter = None
            self._data_version = None
            self._ends.clear()
            if self.writer_process:
                try:
                    self._writer = _WriterProcess(self.path, self.checkpoint_pages, self.checkpoint_poll)
                except BaseException:
                    self._conn = None
                    conn.close()
                    raise

    def close(self) -> None:
        with self._lock:
            writer, self._writer = self._writer, None
            if writer is not None:
                writer.close()
            conn, self._conn = self._conn, None
            if conn is None:
                return
            if self.readonly:
                conn.close()
                return
            try:
                # ANALYZE reads a sample of each index, not all of it: SQLite's own default
                # since 3.46 (Debian 12 has 3.40, which read all 700,000 rows of a 200,000-tweet
                # import, 0.19 s of every close); the statistics only choose among indexes.
                conn.execute("PRAGMA analysis_limit=400")
                conn.execute("PRAGMA optimize")
                # Fold the WAL back into the main file, so the store is one file at rest. Not
                # waiting long for it: while other crawls write into the file the checkpoint
                # cannot finish, and the last one to close folds it in.
                conn.execute("PRAGMA busy_timeout = 1000")
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            except sqlite3.Error:
                pass
            finally:
                conn.close()

    def _check_file(self) -> None:
        path = self.path
        if self.readonly and not path.is_file():
            raise StoreConfigError(f"there is no store at {path}: run a crawl first")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreConfigError(
                f"cannot create the directory of the store {path}: {exc.strerror}; "
                "choose another POD_URL"
            ) from None
        if path.is_dir():
            raise StoreConfigError(
                f"{path} is a directory, not a store file: use POD_URL=sqlite:///{path}/pod.sqlite3"
            )
        if path.exists() and path.stat().st_size > 0:
            try:
                with path.open("rb") as fh:
                    header = fh.read(len(_SQLITE_HEADER))
            except OSError as exc:
                raise StoreConfigError(f"cannot read the store {path}: {exc.strerror}") from None
            if header != _SQLITE_HEADER:
                raise StoreConfigError(
                    f"{path} is not a SQLite database, so it cannot be a twitter_crawler store: "
                    "move it away or point POD_URL to another file"
                )

    def _config_error(self, exc: sqlite3.Error) -> StoreConfigError:
        return StoreConfigError(f"cannot open the store {self.path}: {exc}")

    def _open_error(self, exc: sqlite3.Error) -> Exception:
        name = getattr(exc, "sqlite_errorname", "")
        if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
            return StoreError(f"the store {self.path} is locked by another process: {exc}")
        if name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB")) or "malformed" in str(exc):
            return StoreConfigError(
                f"{self.path} is corrupt ({exc}): move it away (or repair it with sqlite3's "
                "'.recover') and rerun; a new store is created in its place"
            )
        return self._config_error(exc)

    def _prepare(self, conn: sqlite3.Connection) -> None:
        # Nothing is written before the file is known to be ours (or empty).
        app_id = conn.execute("PRAGMA application_id").fetchone()[0]
        objects = {
            name
            for (name,) in conn.execute(
                "SELECT name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'"
            )
        }
        if app_id == 0 and not objects:
            if self.readonly:
                raise StoreConfigError(f"{self.path} is empty: no crawl has written to it yet")
            self._create(conn)
        elif app_id != APPLICATION_ID:
            found = ", ".join(sorted(objects)[:5]) or "no tables"
            raise StoreConfigError(
                f"{self.path} is a SQLite database of another application "
                f"(application_id {app_id}, {found}), not a twitter_crawler store: "
                "point POD_URL to another file"
            )
        else:
            self._check_version(conn, objects)
        check = conn.execute("PRAGMA quick_check(1)").fetchone()[0]
        if check != "ok":
            raise StoreConfigError(
                f"{self.path} is corrupt ({check}): move it away (or repair it with sqlite3's "
                "'.recover') and rerun; a new store is created in its place"
            )
        if self.readonly:
            return
        mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        if mode != "wal":  # pragma: no cover (a file system without shared memory)
            conn.execute("PRAGMA journal_mode=DELETE")
        # A file of an earlier release lacks it; nothing else changed, so no version bump.
        conn.execute(_CONTACT_READS)
        conn.execute("PRAGMA synchronous=NORMAL")
        # A checkpoint every 40 MB of WAL (10,000 pages of 4 KB), not SQLite's 1,000 pages:
        # each one syncs the file and copies back the index pages that every batch touches, so
        # a large import spent a quarter of its store time in them. The WAL is folded in on
        # closing.
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        conn.execute(f"PRAGMA wal_autocheckpoint={max(1, _CHECKPOINT_BYTES // page_size)}")
        conn.execute("PRAGMA cache_size=-32000")
        conn.execute("PRAGMA temp_store=MEMORY")

    def _create(self, conn: sqlite3.Connection) -> None:
        from twitter_crawler import __version__

        # Before the first write, the only time it can be set: an import's inserts land in
        # several indexes in key order, not in the order they come, and with pages of 16 KB
        # instead of 4 KB the same rows of 200,000 tweets took 4.7-5.4 s of SQLite's CPU instead
        # of 7.1-7.3 s (fewer pages to split, to find and to write at each COMMIT). A store
        # made by an earlier release keeps its pages.
        conn.execute(f"PRAGMA page_size={_PAGE_SIZE}")
        conn.execute("BEGIN IMMEDIATE")
        try:
            if conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
                # Another process created it between our look and our lock: check it again.
                conn.execute("ROLLBACK")
                self._prepare_existing(conn)
                return
            # Not executescript(): it would commit the transaction first.
            for statement in [*_SCHEMA.split(";"), _CONTACT_READS]:
                if statement.strip():
                    conn.execute(statement)
            conn.execute(f"PRAGMA application_id={APPLICATION_ID}")
            conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
            conn.executemany(
                "INSERT INTO meta (name, value) VALUES (?, ?)",
                [
                    ("application", APPLICATION),
                    ("schema_version", str(SCHEMA_VERSION)),
                    ("created", time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())),
                    ("created_by", f"{APPLICATION} {__version__}"),
                ],
            )
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise

    def _prepare_existing(self, conn: sqlite3.Connection) -> None:
        app_id = conn.execute("PRAGMA application_id").fetchone()[0]
        if app_id != APPLICATION_ID:
            raise StoreConfigError(
                f"{self.path} was just created by another application: point POD_URL elsewhere"
            )
        objects = {
            name
            for (name,) in conn.execute(
                "SELECT name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'"
            )
        }
        self._check_version(conn, objects)

    def _check_version(self, conn: sqlite3.Connection, objects: set[str]) -> None:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if "meta" in objects:
            row = conn.execute("SELECT value FROM meta WHERE name = 'schema_version'").fetchone()
            if row is not None and str(row[0]).isdigit():
                version = max(version, int(row[0]))
        if version > SCHEMA_VERSION:
            raise StoreConfigError(
                f"{self.path} was written by a newer twitter_crawler (store schema {version}; "
                f"this release knows schema {SCHEMA_VERSION} at most): upgrade twitter_crawler "
                "or point POD_URL to another file"
            )
        missing = {"meta", "items", "edges", "watermarks"} - objects
        if missing:
            raise StoreConfigError(
                f"{self.path} claims to be a twitter_crawler store but lacks "
                f"{', '.join(sorted(missing))}: it is damaged; move it away and rerun"
            )
        # Schema 1 is the first one: migrations of later releases go here.

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            raise StoreError(f"the store {self.path} is not open")
        return self._conn

    # -- writing -------------------------------------------------------------------------------

    def write(self, batch: Batch) -> WriteResult:
        with self._lock:
            conn = self._connection()
            if self._writer is not None:
                return self._writer.write(batch)
            try:
                # Read and checked before the write lock is taken: the lock is held (and, in
                # the writer process, the WAL kept from starting again) for less time.
                records = read_batch(batch, texts=True)
                conn.execute("BEGIN IMMEDIATE")
                try:
                    result = self._write(conn, records)
                    conn.execute("COMMIT")
                except BaseException:
                    # The rowids remembered from this batch may be rolled back with it.
                    self._ends.clear()
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    raise
            except BadBatch as exc:
                raise StoreError(f"batch rejected, nothing written: {exc}") from None
            except sqlite3.Error as exc:
                raise StoreError(f"cannot write to the store {self.path}: {exc}") from exc
            return result

    def _check_filter(self, conn: sqlite3.Connection) -> _KeyFilter | None:
        """The key filter for this batch, called in its write transaction: dropped if another
        connection has committed since our last batch, built if due."""
        version = conn.execute("PRAGMA data_version").fetchone()[0]
        foreign = self._data_version is not None and version != self._data_version
        self._data_version = version
        if foreign:
            # Another writer (a second crawl into this file): what it stored is not in the
            # filter, and the rowids remembered are not to be trusted either.
            self._filter = None
            self._ends.clear()
            self._filter_quiet = 0
        else:
            self._filter_quiet += 1
        if self._filter is None and self.filter_bits and self._filter_quiet >= self._filter_wait:
            # In the write transaction: no other writer adds items while they are read.
            stored = conn.execute("SELECT coalesce(max(rowid), 0) FROM items").fetchone()[0]
            if stored <= _FILTER_MAX_KEYS:
                key_filter = _KeyFilter(self.filter_bits)
                key_filter.add(conn.execute("SELECT type, key FROM items"))
                self._filter = key_filter
                self.filter_builds += 1
        if foreign:
            self._filter_wait = min(self._filter_wait * 2 or 1, _FILTER_MAX_WAIT)
        return self._filter

    def _write(self, conn: sqlite3.Connection, records: Records) -> WriteResult:
        now = _now_ms()
        result = WriteResult()
        items, edges = records.items, records.edges
        # The code below runs for every item and edge of an archive import (hundreds of
        # thousands), and for most of them in C: map, zip, set operations on the key tuples.
        item_keys = list(zip(map(_first, items), map(_second, items), strict=True))
        rows, end_rowids, missing = self._find(conn, item_keys, edges)
        new = self._apply_items(items, item_keys, rows, result)
        # An edge needs both ends: an end that is not stored yet becomes a minimal item, created
        # after the items, in the order of the edges (as the rowids always were given).
        new_ends: list[Key] = []
        if missing:
            in_order = dict.fromkeys(
                chain.from_iterable(zip(map(_first, edges), map(_third, edges), strict=True))
            )
            new_ends = list(filter(missing.__contains__, in_order))
            result.created.update(map(_first, new_ends))

        first = conn.execute("SELECT coalesce(max(rowid), 0) FROM items").fetchone()[0] + 1
        if new or new_ends:
            self._insert(
                conn,
                [*new, *new_ends],
                [*new.values(), *starmap(minimal_properties, new_ends)],
                first,
                now,
            )
        updates = [
            (dumps_properties(row.properties), now, row.rowid) for row in rows.values() if row.dirty
        ]
        if updates:
            conn.executemany(
                "UPDATE items SET properties = ?, dateModified = ? WHERE rowid = ?", updates
            )

        if edges:
            rowids = dict(zip(new, count(first)))
            if new_ends:
                ends_created = dict(zip(new_ends, count(first + len(new))))
                self._remember(ends_created)
                rowids.update(ends_created)
            rowids.update(end_rowids)
            rowids.update(zip(rows, map(_rowid_of, rows.values()), strict=True))
            self._write_edges(conn, edges, rowids, now, result.edges_created)
        if records.watermarks:
            self._write_watermarks(conn, records.watermarks, now)
        for page in records.pages:
            self._write_page(conn, page, now, result.edges_removed)
        return result

    def _find(
        self,
        conn: sqlite3.Connection,
        item_keys: list[Key],
        edges: list[tuple[Key, str, Key]],
    ) -> tuple[dict[Key, _Row], dict[Key, int], set[Key]]:
        """What is stored of the batch: its items' rows (to merge into), the rowids of the
        edges' other ends, and those ends not stored.

        A key the filter rules out is not looked up; an end remembered from an earlier batch
        neither; the other ends are looked up without their properties.
        """
        key_filter = self._check_filter(conn)
        ends = set(map(_first, edges))
        ends.update(map(_third, edges))
        ends.difference_update(item_keys)
        end_rowids: dict[Key, int] = {}
        cache = self._ends
        if ends and cache:
            end_rowids = {key: cache[key] for key in ends if key in cache}
            if end_rowids:
                self.lookups_cached += len(end_rowids)
                ends.difference_update(end_rowids)
        missing = ends  # those not stored, once the ones found are taken out
        wanted: Collection[Key] = set(item_keys)
        if key_filter is not None:
            asked = len(wanted) + len(ends)
            wanted = key_filter.maybe(wanted)
            ends = set(key_filter.maybe(ends))
            self.lookups_skipped += asked - len(wanted) - len(ends)
        rows = self._lookup(conn, wanted) if wanted else {}
        if ends:
            found = self._lookup_rowids(conn, ends)
            if found:
                end_rowids.update(found)
                missing = missing.difference(found)
                self._remember(found)
        return rows, end_rowids, missing

    @staticmethod
    def _apply_items(
        items: list[tuple[str, str, Any]],
        item_keys: list[Key],
        rows: dict[Key, _Row],
        result: WriteResult,
    ) -> dict[Key, Any]:
        """Applies the items in order to the stored ``rows`` (a later occurrence of a key merges
        into the earlier one), counts them, and returns the new ones' properties, by key, in
        the order they first come. Properties are dicts, or a packed item's JSON text
        (``read_batch(..., texts=True)``), decoded only to be merged."""
        if not rows:
            new: dict[Key, Any] = dict(zip(item_keys, map(_third, items), strict=True))
            if len(new) == len(items):  # none stored, none twice: each one is created
                result.created.update(map(_first, item_keys))
                return new
        new = {}
        created, updated, unchanged = result.created, result.updated, result.unchanged
        for ident, (kind, _, props) in zip(item_keys, items, strict=True):
            row = rows.get(ident)
            if row is not None:
                # A packed item's JSON text is merged as a dict.
                if merge(row.properties, loads_properties(props) if type(props) is str else props):
                    row.dirty = True
                    updated[kind] += 1
                else:
                    unchanged[kind] += 1
                continue
            stored = new.get(ident)
            if stored is None:
                new[ident] = props  # a dict, or a packed item's JSON text, inserted as it is
                created[kind] += 1
                continue
            if type(stored) is str:
                new[ident] = stored = loads_properties(stored)
            if merge(stored, loads_properties(props) if type(props) is str else props):
                updated[kind] += 1
            else:
                unchanged[kind] += 1
        return new

    def _insert(
        self,
        conn: sqlite3.Connection,
        keys: list[Key],
        properties: list[dict[str, Any]],
        first: int,
        now: int,
    ) -> None:
        """Inserts the new items ``keys`` with their ``properties``, rowids from ``first`` on."""
        conn.executemany(
            "INSERT INTO items (rowid, id, type, key, properties, dateCreated, dateModified) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            zip(
                count(first),
                _pod_ids(keys),
                map(_first, keys),
                map(_second, keys),
                _dumps_all(properties),
                repeat(now),
                repeat(now),
            ),
        )
        key_filter = self._filter
        if key_filter is not None:
            key_filter.add(keys)
            if key_filter.keys > _FILTER_MAX_KEYS:
                self._filter = None  # too full to spare many look-ups: see _FILTER_MAX_KEYS

    def _remember(self, ends: dict[Key, int]) -> None:
        cache, size = self._ends, self.end_cache_size
        if len(cache) + len(ends) > size:
            cache.clear()  # simpler than an LRU, and the hot ends come back at once
        if len(ends) <= size:
            cache.update(ends)

    def _write_edges(
        self,
        conn: sqlite3.Connection,
        edges: list[tuple[Key, str, Key]],
        rowids: dict[Key, int],
        now: int,
        created: Counter[str],
    ) -> None:
        # Grouped by name (a stable sort: each name's edges in their order), and their rows made
        # by map and zip: no Python code runs per edge. The names in the order they first come.
        rowid = rowids.__getitem__
        groups = {name: list(group) for name, group in groupby(sorted(edges, key=_second), _second)}
        for name in dict.fromkeys(map(_second, edges)):
            named = groups[name]
            cursor = conn.executemany(
                "INSERT INTO edges (source, name, target, dateCreated) VALUES (?, ?, ?, ?) "
                "ON CONFLICT DO NOTHING",
                zip(
                    map(rowid, map(_first, named)),
                    repeat(name),
                    map(rowid, map(_third, named)),
                    repeat(now),
                ),
            )
            if cursor.rowcount > 0:
                created[name] += cursor.rowcount

    def _lookup(self, conn: sqlite3.Connection, keys: Iterable[Key]) -> dict[Key, _Row]:
        rows: dict[Key, _Row] = {}
        for kind, type_keys in self._by_type(keys).items():
            for chunk in _chunks(type_keys):
                marks = ",".join("?" * len(chunk))
                for rowid, key, properties in conn.execute(
                    # Only placeholders are formatted in; the values are bound.
                    f"SELECT rowid, key, properties FROM items WHERE type = ? AND key IN ({marks})",  # noqa: S608
                    (kind, *chunk),
                ):
                    rows[(kind, key)] = _Row(rowid, loads_properties(properties))
        return rows

    def _lookup_rowids(self, conn: sqlite3.Connection, keys: Iterable[Key]) -> dict[Key, int]:
        """The rowids of the stored keys of ``keys``: no properties read, none decoded."""
        rowids: dict[Key, int] = {}
        for kind, type_keys in self._by_type(keys).items():
            for chunk in _chunks(type_keys):
                marks = ",".join("?" * len(chunk))
                for rowid, key in conn.execute(
                    f"SELECT rowid, key FROM items WHERE type = ? AND key IN ({marks})",  # noqa: S608
                    (kind, *chunk),
                ):
                    rowids[(kind, key)] = rowid
        return rowids

    @staticmethod
    def _by_type(keys: Iterable[Key]) -> dict[str, list[str]]:
        by_type: dict[str, list[str]] = {}
        for kind, key in keys:
            type_keys = by_type.get(kind)
            if type_keys is None:  # not setdefault: it would make a list for every key
                by_type[kind] = type_keys = []
            type_keys.append(key)
        return by_type

    def _write_watermarks(
        self, conn: sqlite3.Connection, watermarks: list[tuple[str, str]], now: int
    ) -> None:
        current: dict[str, str] = {}
        for chunk in _chunks([user_id for user_id, _ in watermarks]):
            marks = ",".join("?" * len(chunk))
            current.update(
                conn.execute(
                    f"SELECT userId, sinceId FROM watermarks WHERE userId IN ({marks})",  # noqa: S608
                    chunk,
                )
            )
        values = []
        for user_id, since_id in watermarks:
            # A watermark only moves forward: a late or replayed batch never rewinds it.
            if newer_since_id(current.get(user_id), since_id):
                current[user_id] = since_id
                values.append((user_id, since_id, now))
        conn.executemany(
            "INSERT INTO watermarks (userId, sinceId, dateModified) VALUES (?, ?, ?) "
            "ON CONFLICT (userId) DO UPDATE SET sinceId = excluded.sinceId, "
            "dateModified = excluded.dateModified",
            values,
        )

    def _write_page(
        self, conn: sqlite3.Connection, page: Page, now: int, removed: Counter[str]
    ) -> None:
        source, name, walk_id = page.source, page.name, page.walk_id
        row = conn.execute(
            "SELECT rowid FROM contact_walks WHERE walkId = ?", (walk_id,)
        ).fetchone()
        if row is None:
            walk = conn.execute(
                "INSERT INTO contact_walks (walkId, source, name, dateCreated) VALUES (?, ?, ?, ?)",
                (walk_id, source, name, now),
            ).lastrowid
        else:
            walk = row[0]
        conn.executemany(
            "INSERT INTO contact_walk_targets (walk, target) VALUES (?, ?) ON CONFLICT DO NOTHING",
            [(walk, target) for target in page.targets],
        )
        if not page.complete:
            return
        # Read in full: the refresh of this list can be newest-first until a full one is due.
        conn.execute(
            "INSERT INTO contact_reads (source, name, dateRead) VALUES (?, ?, ?) "
            "ON CONFLICT (source, name) DO UPDATE SET dateRead = excluded.dateRead",
            (source, name, now),
        )
        source_row = conn.execute(
            "SELECT rowid FROM items WHERE type = 'Account' AND key = ?", (source,)
        ).fetchone()
        if source_row is not None:
            cursor = conn.execute(
                "DELETE FROM edges WHERE source = ? AND name = ? AND target NOT IN ("
                " SELECT i.rowid FROM contact_walk_targets AS w"
                " JOIN items AS i ON i.type = 'Account' AND i.key = w.target"
                " WHERE w.walk = ?)",
                (source_row[0], name, walk),
            )
            if cursor.rowcount > 0:
                removed[name] += cursor.rowcount
        # This walk is done, and any older unfinished walk of the same list is obsolete.
        conn.execute(
            "DELETE FROM contact_walk_targets WHERE walk IN "
            "(SELECT rowid FROM contact_walks WHERE source = ? AND name = ?)",
            (source, name),
        )
        conn.execute("DELETE FROM contact_walks WHERE source = ? AND name = ?", (source, name))

    # -- reading -------------------------------------------------------------------------------

    def watermarks(self) -> dict[str, str]:
        with self._lock:
            conn = self._connection()
            try:
                return dict(conn.execute("SELECT userId, sinceId FROM watermarks"))
            except sqlite3.Error as exc:
                raise StoreError(f"cannot read the store {self.path}: {exc}") from exc

    def _tables(self) -> set[str]:
        return {name for (name,) in self._query("SELECT name FROM sqlite_master")}

    def contacts_state(self) -> ContactsState:
        return contacts_state(
            # A read-only file of an earlier release may lack contact_reads.
            self._query, reads_table="contact_reads" in self._tables())

    def media_state(self) -> MediaState:
        return media_state(self._query, "json_extract(properties, '$.{name}')")

    @property
    def files_dir(self) -> Path:
        """The file area beside the SQLite file: ``pod.sqlite3`` → ``pod.files/``."""
        return self.path.with_name(f"{self.path.stem}.files")

    def file_path(self, sha256: str) -> Path:
        return self.files_dir / sha256[:2] / sha256

    def put_file(self, sha256: str, data: bytes) -> None:
        if self.readonly:
            raise StoreError(f"the store {self.path} is open read-only")
        # os-level calls on str paths, and each folder made once: an archive import stores tens
        # of thousands of files, and pathlib's objects took more time than the system calls'
        # own Python side.
        folder = f"{self._files_root}/{sha256[:2]}"
        target = f"{folder}/{sha256}"
        try:
            fd = self._new_file(folder, target)
        except OSError as exc:
            raise StoreError(f"cannot write the file {target}: {exc}") from exc
        if fd is None:
            with suppress(OSError):
                found = os.stat(target)  # noqa: PTH116 (see above)
                if stat.S_ISREG(found.st_mode) and found.st_size == len(data):
                    return  # content-addressed: same name, same bytes
            self._replace_file(target, data)
            return
        try:
            try:
                _write_all(fd, data)
            except OSError:
                with suppress(OSError):
                    # Ours still (not replaced by another crawl's whole copy meanwhile): removed.
                    if os.fstat(fd).st_ino == os.stat(target).st_ino:  # noqa: PTH116
                        os.unlink(target)  # noqa: PTH108
                raise
            finally:
                os.close(fd)
        except OSError as exc:
            raise StoreError(f"cannot write the file {target}: {exc}") from exc

    def _new_file(self, folder: str, target: str) -> int | None:
        """``target`` made and open for writing; ``None`` if a file has that name.

        Made under its final name, only if no file has it: creating a file aside and renaming
        it cost a third more of the kernel's time (about 15 us a file here). A crash while it
        is written leaves a short file, which no File item names (the store's items say what it
        holds, and the item comes after put_file) and which the next put_file of these bytes
        finds and replaces, as one left by any other writer.
        """
        if folder not in self._folders:
            os.makedirs(folder, exist_ok=True)  # noqa: PTH103
            self._folders.add(folder)
        try:
            try:
                return os.open(target, _NEW_FILE, 0o666)
            except FileNotFoundError:  # the folder was removed since: made again
                os.makedirs(folder, exist_ok=True)  # noqa: PTH103
                return os.open(target, _NEW_FILE, 0o666)
        except FileExistsError:
            return None

    def _replace_file(self, target: str, data: bytes) -> None:
        """Writes ``data`` aside, then renames it over ``target``: whoever reads ``target``
        meanwhile finds the file it replaces, or this one whole."""
        partial = f"{target}.{os.getpid()}.{threading.get_ident()}.part"
        try:
            fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
            try:
                _write_all(fd, data)
            finally:
                os.close(fd)
            os.replace(partial, target)  # noqa: PTH105
        except OSError as exc:
            with suppress(OSError):
                os.unlink(partial)  # noqa: PTH108
            raise StoreError(f"cannot write the file {target}: {exc}") from exc

    def _query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            conn = self._connection()
            try:
                return conn.execute(sql, params).fetchall()
            except sqlite3.Error as exc:
                raise StoreError(f"cannot read the store {self.path}: {exc}") from exc

    def counts(self) -> dict[str, int]:
        """Items per type."""
        return dict(self._query("SELECT type, count(*) FROM items GROUP BY type ORDER BY type"))

    def edge_counts(self) -> dict[str, int]:
        """Edges per name."""
        return dict(self._query("SELECT name, count(*) FROM edges GROUP BY name ORDER BY name"))

    def meta(self) -> dict[str, str]:
        return dict(self._query("SELECT name, value FROM meta ORDER BY name"))

    def account(self, handle: str) -> dict[str, Any] | None:
        """The account with this handle (case-insensitive, a leading ``@`` ignored)."""
        rows = self._query(
            "SELECT key, properties FROM items WHERE type = 'Account' "
            "AND lower(json_extract(properties, '$.handle')) = lower(?) "
            "ORDER BY dateModified DESC LIMIT 1",
            (handle.lstrip("@"),),
        )
        if not rows:
            return None
        account: dict[str, Any] = json.loads(rows[0][1])
        return account

    def tweets(self, handle: str, limit: int | None = None) -> list[dict[str, Any]]:
        """The tweets whose ``author`` is the account ``handle``, newest first."""
        account = self.account(handle)
        if account is None:
            return []
        rows = self._query(
            "SELECT t.properties FROM items AS a"
            " JOIN edges AS e ON e.target = a.rowid AND e.name = 'author'"
            " JOIN items AS t ON t.rowid = e.source AND t.type = 'Tweet'"
            " WHERE a.type = 'Account' AND a.key = ?"
            " ORDER BY length(t.key) DESC, t.key DESC"
            " LIMIT ?",
            (account["externalId"], -1 if limit is None else limit),
        )
        return [json.loads(properties) for (properties,) in rows]

    def find(self, key: str) -> list[dict[str, Any]]:
        """Every item keyed ``key`` (an externalId, or a Website url), with its edges."""
        found = []
        rows = []
        for (kind,) in self._query("SELECT DISTINCT type FROM items ORDER BY type"):
            rows += self._query(
                "SELECT rowid, id, type, key, properties, dateCreated, dateModified FROM items "
                "WHERE type = ? AND key = ?",
                (kind, key),
            )
        for rowid, item_id, kind, item_key, properties, created, modified in rows:
            outgoing = self._query(
                "SELECT e.name, t.type, t.key, t.properties FROM edges AS e"
                " JOIN items AS t ON t.rowid = e.target WHERE e.source = ?"
                " ORDER BY e.name, t.type, length(t.key), t.key",
                (rowid,),
            )
            incoming = self._query(
                "SELECT name, count(*) FROM edges WHERE target = ? GROUP BY name ORDER BY name",
                (rowid,),
            )
            found.append(
                {
                    "id": item_id,
                    "type": kind,
                    "key": item_key,
                    "properties": json.loads(properties),
                    "dateCreated": created,
                    "dateModified": modified,
                    "outgoing": [
                        (name, t_type, t_key, json.loads(t_props))
                        for name, t_type, t_key, t_props in outgoing
                    ],
                    "incoming": dict(incoming),
                }
            )
        return found


class _WriterProcess:
    """A child process that applies the batches to the SQLite file ``path``: a
    :class:`SQLiteStore` of its own, fed through a pipe, one batch (and its answer) at a time.

    Same transactions, same order as in-process: :meth:`write` returns once the batch is
    committed (or raises :class:`StoreError`). A parent killed mid-import leaves the child to
    finish the batch it holds (committed whole, or rolled back) and end at the pipe's end.
    """

    def __init__(self, path: Path, checkpoint_pages: int | None = None,
                 checkpoint_poll: float | None = None) -> None:
        self._pipe, child = spawn.pipe()
        self._proc = spawn.start(_serve, (str(path), child, checkpoint_pages, checkpoint_poll),
                                 "sqlite-writer")
        child.close()
        self.path = path
        # The child opens the file first: an error there is the store's, not the first batch's.
        self._answer()

    def _answer(self) -> WriteResult:
        try:
            status, payload = self._pipe.recv()
        except (EOFError, OSError) as exc:
            raise StoreError(
                f"the writer process of the store {self.path} ended ({exc or 'no answer'})"
            ) from None
        if status != "ok":
            raise StoreError(payload)
        result: WriteResult = payload
        return result

    def write(self, batch: Batch) -> WriteResult:
        try:
            self._pipe.send(batch)
        except (OSError, ValueError) as exc:
            raise StoreError(
                f"the writer process of the store {self.path} ended ({exc})"
            ) from None
        return self._answer()

    def close(self) -> None:
        with suppress(OSError, ValueError):
            self._pipe.send(None)
        self._proc.join(60)
        if self._proc.is_alive():  # pragma: no cover (a write stuck 60 s on a lock)
            self._proc.kill()
            self._proc.join()
        self._pipe.close()


class _Checkpointer:
    """A thread of the writer process that checkpoints the WAL with a connection of its own,
    so that the writer does not wait for the checkpoints' copies and fsyncs.

    SQLite checkpoints in the COMMIT that passes ``wal_autocheckpoint``: the writer then copied
    the whole WAL into the file and synced both (the COMMITs of a 200,000-tweet import took
    4.2 s on a disk, 1.2 s with the file in memory). Here the writer's connection does not
    checkpoint (``wal_autocheckpoint=0``): every :data:`_CHECKPOINT_POLL` seconds this thread
    copies what was committed since its last look (a PASSIVE checkpoint) while the writer goes
    on (``sqlite3`` lets go of the GIL while SQLite works). The file is thus never far behind,
    and closing the store has only the last moments to copy.

    The WAL starts again from its beginning only when a write transaction begins after a
    checkpoint has copied every frame, and a writer that is never idle (the parent sends the
    next batch at once) keeps it growing. Once it holds :data:`_WAL_RESTART_BYTES`, the last of
    two more rounds runs between two batches, holding the store's lock, so that the WAL starts
    again: the writer waits for that round's copy and fsyncs (60-190 ms each on this machine's
    disk), which it did ten times in a 200,000-tweet import when the WAL started again every
    40 MB, and does not at all now (its 150 MB fit). The commit that starts the WAL again
    truncates its file to that size (``journal_size_limit``).

    Crash safety is SQLite's: a checkpoint only copies committed frames, and one cut short is
    taken up again by the next; a PASSIVE checkpoint never waits for (nor blocks) other readers
    or writers of the file, it copies what they allow.
    """

    def __init__(self, store: SQLiteStore, pages: int | None = None,
                 poll: float | None = None) -> None:
        conn = store._connection()  # the writer process's own store
        self.poll = _CHECKPOINT_POLL if poll is None else poll
        self._store_lock = store._lock  # held by the writer for each batch
        try:
            page_size = int(conn.execute("PRAGMA page_size").fetchone()[0])
            if pages is None:
                pages = max(1, _WAL_RESTART_BYTES // page_size)
            self.pages = pages
            # A WAL frame is a page and a 24-byte header; the file starts with a 32-byte one.
            conn.execute("PRAGMA wal_autocheckpoint=0")
            conn.execute(f"PRAGMA journal_size_limit={32 + pages * (page_size + 24)}")
            self._conn = sqlite3.connect(
                store.path, timeout=30.0, isolation_level=None, check_same_thread=False
            )
            # As the writer's: a checkpoint syncs the WAL, then the file (what NORMAL promises).
            self._conn.execute("PRAGMA synchronous=NORMAL")
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open the store {store.path}: {exc}") from exc
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sqlite-checkpointer", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.poll):
            try:
                if self._checkpoint() <= self.pages:
                    continue
                self._checkpoint()
                with self._store_lock:
                    self._checkpoint()
            except sqlite3.Error:
                continue  # tried again at the next look

    def _checkpoint(self) -> int:
        """Copies what the WAL holds that the file lacks; the frames in the WAL."""
        row = self._conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        return int(row[1]) if row is not None else 0

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self._conn.close()


def _serve(path: str, pipe: Any, checkpoint_pages: int | None = None,
           checkpoint_poll: float | None = None) -> None:
    """The writer process: open the store, then write every batch received until ``None``."""
    store = SQLiteStore(path)
    try:
        store.open()
        checkpointer = _Checkpointer(store, checkpoint_pages, checkpoint_poll)
    except (StoreError, StoreConfigError) as exc:
        store.close()
        pipe.send(("error", str(exc)))
        return
    # The batches are trees of dicts, lists and strings, freed by reference counting once
    # written; they hold no reference cycles, which are all the cyclic GC can free. Yet its
    # collections ran over and over while pickle.loads built them (each batch makes tens of
    # thousands of containers): the objects alive now are frozen out of its reach, and a
    # collection only runs once 100,000 more containers are alive than freed (a leak of
    # cycles, say an error's traceback, is still collected), not every 700.
    gc.collect()
    gc.freeze()
    gc.set_threshold(100_000, 50, 100)
    try:
        pipe.send(("ok", None))
        while True:
            try:
                batch = pipe.recv()
            except (EOFError, OSError):
                return  # the parent is gone
            if batch is None:
                return
            try:
                pipe.send(("ok", store.write(batch)))
            except StoreError as exc:
                pipe.send(("error", str(exc)))
    finally:
        checkpointer.close()
        store.close()
