"""The shared store: one PostgreSQL database that crawls on many machines write to at once.

``POD_URL=postgresql://user:password@host:port/database`` (or ``postgres://``; libpq's query
parameters such as ``?sslmode=require`` are passed on) writes here, with psycopg 3 (the
``postgres`` extra). It has the model and the guarantees of the embedded SQLite store
(:mod:`.sqlite`), and applies a batch with the same rules (:mod:`.records`):

``items``
    ``rowid`` (identity), ``id`` (the Pod id, see :mod:`.ids`, derived from the key), ``type``,
    ``key`` (unique per type), ``properties`` (``jsonb``), ``dateCreated``, ``dateModified``
    (milliseconds).
``edges``
    ``source``, ``name``, ``target`` (``items.rowid``), ``dateCreated``; primary key
    ``(source, name, target)``. The view ``edge_keys`` shows them with types and keys.
``watermarks``, ``contact_walks``, ``contact_walk_targets``, ``contact_reads``, ``meta``
    as in the SQLite store.
``files``
    ``sha256`` → ``data`` (``bytea``): the bytes of File items. In the database, not in a
    directory beside it: the machines that share the store share no disk, and a media file
    downloaded by one must be there for all (a media file is at most ``TWITTER_MEDIA_MAX_BYTES``).

Safe with concurrent writers (several processes, on several machines): each
:meth:`PostgresStore.write` is one transaction that locks the stored rows of the batch's items
(``SELECT ... FOR NO KEY UPDATE``, in a fixed order: the lock an update takes, which lets
another writer add edges to them), merges into them as the SQLite store does and
inserts the new ones with ``INSERT ... ON CONFLICT (type, key) DO UPDATE SET properties =
items.properties || excluded.properties``: an item another writer created in the meantime is
merged into (``||`` keeps what it lacks, replaces what it has), never duplicated. Edges are
``ON CONFLICT DO NOTHING`` on their primary key, and a watermark moves forward in SQL
(``ON CONFLICT ... DO UPDATE ... WHERE`` newer). Two writers that lock the same rows in
opposite orders are stopped by PostgreSQL's deadlock detector; the transaction is then retried
here, a few times, before the pipeline's own retries.

Dates (``dateCreated``, ``dateRead`` of a full contacts read) are on the database's clock, the
one clock that all the machines share.

The password is used to connect only: it never appears in :meth:`PostgresStore.describe`, in
the errors this store raises, or in log records (:mod:`twitter_crawler.logmask` masks it while
the store is open).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote, urlsplit

from twitter_crawler import logmask
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
    merge,
    minimal_properties,
    read_batch,
)
from twitter_crawler.stores.relational import contacts_state, media_state

if TYPE_CHECKING:
    from collections import Counter
    from collections.abc import Iterable

    import psycopg

logger = logging.getLogger(__name__)

APPLICATION = "twitter_crawler"
#: The layout this release writes. A database with a higher version was written by a newer release.
SCHEMA_VERSION = 1
#: Times a transaction stopped by a deadlock or a serialization failure is run again at once.
CONFLICT_RETRIES = 5
#: Seconds to wait for the server when connecting.
CONNECT_TIMEOUT = 10
#: Longest a statement may run (or wait for another writer's locks), in milliseconds.
STATEMENT_TIMEOUT_MS = 120_000
#: Keys per ``= ANY(%s)`` look-up.
_CHUNK = 5000
#: One key serializes the creation of the tables by concurrent first crawls.
_SCHEMA_LOCK = 0x54574350

_SCHEMA = """
CREATE TABLE meta (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE items (
    rowid BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id TEXT NOT NULL,
    type TEXT NOT NULL,
    key TEXT NOT NULL,
    properties JSONB NOT NULL,
    "dateCreated" BIGINT NOT NULL,
    "dateModified" BIGINT NOT NULL,
    UNIQUE (type, key)
);
CREATE INDEX items_by_id ON items (id);
CREATE TABLE edges (
    source BIGINT NOT NULL REFERENCES items (rowid),
    name TEXT NOT NULL,
    target BIGINT NOT NULL REFERENCES items (rowid),
    "dateCreated" BIGINT NOT NULL,
    PRIMARY KEY (source, name, target)
);
CREATE INDEX edges_by_target ON edges (target, name);
CREATE TABLE watermarks (
    "userId" TEXT PRIMARY KEY,
    "sinceId" TEXT NOT NULL,
    "dateModified" BIGINT NOT NULL
);
CREATE TABLE contact_walks (
    rowid BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    "walkId" TEXT NOT NULL UNIQUE,
    source TEXT NOT NULL,
    name TEXT NOT NULL,
    "dateCreated" BIGINT NOT NULL
);
CREATE INDEX contact_walks_by_source ON contact_walks (source, name);
CREATE TABLE contact_walk_targets (
    walk BIGINT NOT NULL REFERENCES contact_walks (rowid) ON DELETE CASCADE,
    target TEXT NOT NULL,
    PRIMARY KEY (walk, target)
);
CREATE TABLE contact_reads (
    source TEXT NOT NULL,
    name TEXT NOT NULL,
    "dateRead" BIGINT NOT NULL,
    PRIMARY KEY (source, name)
);
CREATE TABLE files (
    sha256 TEXT PRIMARY KEY,
    size BIGINT NOT NULL,
    data BYTEA NOT NULL,
    "dateCreated" BIGINT NOT NULL
);
CREATE VIEW edge_keys AS
    SELECT s.type AS "sourceType", s.key AS "sourceKey", e.name AS name,
           t.type AS "targetType", t.key AS "targetKey", e."dateCreated" AS "dateCreated"
    FROM edges AS e
    JOIN items AS s ON s.rowid = e.source
    JOIN items AS t ON t.rowid = e.target
"""
# items.id is not UNIQUE: it is derived from (type, key), which is unique, and a second unique
# index would make concurrent upserts of one new key fail on it instead of merging (ON CONFLICT
# has one arbiter index).
_TABLES = {
    "meta", "items", "edges", "watermarks", "contact_walks", "contact_walk_targets",
    "contact_reads", "files",
}
_NOW_MS = "(extract(epoch FROM clock_timestamp()) * 1000)::bigint"


@dataclass(slots=True)
class _Row:
    rowid: int | None
    properties: dict[str, Any]
    dirty: bool = False


def _chunks(values: list[Any], size: int = _CHUNK) -> Iterable[list[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _import_psycopg() -> Any:
    try:
        import psycopg
    except ImportError:
        raise StoreConfigError(
            "POD_URL is a PostgreSQL database, which needs psycopg: install the extra with  "
            "pip install -e '.[postgres]'"
        ) from None
    return psycopg


def safe_url(url: str) -> str:
    """The URL without its password and query: what may be shown to people."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        port = ""
    user = f"{unquote(parts.username)}@" if parts.username else ""
    return f"{parts.scheme}://{user}{host}{port}{parts.path}"


class PostgresStore(Store):
    """The shared store in the PostgreSQL database ``url`` (tables created if missing).

    With ``readonly=True`` (``scrapy store``), the database must hold a store and is never
    written (its transactions are read-only).
    """

    def __init__(self, url: str, *, readonly: bool = False) -> None:
        self._url = url
        self.url = safe_url(url)
        self.readonly = readonly
        parts = urlsplit(url)
        password = unquote(parts.password or "")
        # libpq also takes it as a parameter: ...?password=...
        in_query = [v for k, v in parse_qsl(parts.query) if k == "password"]
        # The password, and the URL's part that holds it, which is long enough to be masked
        # even when the password is not (logmask leaves values under 8 characters alone).
        self._secret_values = tuple(
            value
            for value in (password, parts.netloc if password else "", *in_query, parts.query)
            if value
        )
        self._secrets = logmask.Secrets(self._secret_values)
        self._masking = False
        self._conn: psycopg.Connection[Any] | None = None
        # Calls come one at a time from the pipeline's worker thread, but not always the same
        # thread: the connection is shared and guarded, as in the SQLite store.
        self._lock = threading.RLock()

    # -- lifecycle -----------------------------------------------------------------------------

    def describe(self) -> str:
        return f"PostgreSQL store {self.url}"

    def __repr__(self) -> str:
        return f"<PostgresStore {self.url}>"

    def _check_config(self) -> None:
        parts = urlsplit(self._url)
        if parts.scheme not in ("postgresql", "postgres"):
            raise StoreConfigError(
                f"POD_URL={self.url!r} is not a PostgreSQL address: use "
                "postgresql://user:password@host:port/database"
            )
        try:
            _ = parts.port
        except ValueError:
            raise StoreConfigError(f"POD_URL={self.url!r} has a malformed port") from None
        if not parts.path.strip("/"):
            raise StoreConfigError(
                f"POD_URL={self.url!r} names no database: use "
                "postgresql://user:password@host:port/database"
            )

    def _message(self, exc: BaseException) -> str:
        """An error of psycopg as one line, without the password."""
        text = " ".join(str(exc).split()) or type(exc).__name__
        return self._secrets.mask(text)[:300]

    def open(self) -> None:
        with self._lock:
            if self._conn is not None:
                return
            self._check_config()
            psycopg = _import_psycopg()
            if not self._masking:
                logmask.add_secrets(self._secret_values)
                self._masking = True
            try:
                conn = self._connect(psycopg)
                try:
                    self._prepare(conn)
                except BaseException:
                    conn.close()
                    raise
            except psycopg.Error as exc:
                self._unmask()
                raise StoreError(
                    f"cannot open the store {self.url}: {self._message(exc)}"
                ) from None
            except BaseException:
                self._unmask()
                raise
            self._conn = conn

    def _connect(self, driver: Any) -> psycopg.Connection[Any]:
        try:
            conn: psycopg.Connection[Any] = driver.connect(
                self._url,
                connect_timeout=CONNECT_TIMEOUT,
                application_name=APPLICATION,
                autocommit=True,
            )
        except driver.Error as exc:
            raise self._connect_error(driver, exc) from None
        try:
            # A statement stuck behind another writer's locks (or a server that stopped
            # answering) ends as an error the pipeline retries, instead of blocking for ever.
            conn.execute(f"SET statement_timeout = {STATEMENT_TIMEOUT_MS}")
            if self.readonly:
                # Every statement of this connection, in or out of a transaction.
                conn.execute("SET default_transaction_read_only = on")
        except BaseException:
            conn.close()
            raise
        return conn

    def _connect_error(self, psycopg: Any, exc: Exception) -> Exception:
        message = self._message(exc)
        sqlstate = getattr(exc, "sqlstate", None) or ""
        # 28xxx: authentication or authorization; 3D000: no such database. Waiting will not
        # help: the crawl does not start (pod_config_error).
        lowered = message.lower()
        if sqlstate.startswith(("28", "3D")) or any(
            reason in lowered
            for reason in ("password authentication failed", "does not exist", "no password")
        ):
            return StoreConfigError(
                f"PostgreSQL refused the connection to {self.url}: {message}; check the user, "
                "password and database in POD_URL"
            )
        return StoreError(f"cannot reach PostgreSQL at {self.url}: {message}")

    def _unmask(self) -> None:
        if self._masking:
            logmask.remove_secrets(self._secret_values)
            self._masking = False

    def close(self) -> None:
        with self._lock:
            conn, self._conn = self._conn, None
            self._unmask()
            if conn is not None:
                conn.close()

    def _prepare(self, conn: psycopg.Connection[Any]) -> None:
        tables = self._tables(conn)
        if not tables:
            if self.readonly:
                raise StoreConfigError(f"{self.url} holds no store: run a crawl into it first")
            with conn.transaction():
                # Two first crawls at once: one creates the tables, the other then finds them.
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
                if not self._tables(conn):
                    self._create(conn)
            tables = self._tables(conn)
        if "meta" not in tables:
            found = ", ".join(sorted(tables)[:5])
            raise StoreConfigError(
                f"{self.url} holds tables of another application ({found}), not a "
                "twitter_crawler store: use an empty database"
            )
        meta = dict(conn.execute("SELECT name, value FROM meta").fetchall())
        if meta.get("application") != APPLICATION:
            raise StoreConfigError(
                f"{self.url} holds tables of another application, not a twitter_crawler "
                "store: use an empty database"
            )
        version = meta.get("schema_version", "")
        if version.isdigit() and int(version) > SCHEMA_VERSION:
            raise StoreConfigError(
                f"{self.url} was written by a newer twitter_crawler (store schema {version}; "
                f"this release knows schema {SCHEMA_VERSION} at most): upgrade twitter_crawler"
            )
        missing = _TABLES - tables
        if missing:
            raise StoreConfigError(
                f"{self.url} claims to be a twitter_crawler store but lacks "
                f"{', '.join(sorted(missing))}: it is damaged; use an empty database"
            )

    @staticmethod
    def _tables(conn: psycopg.Connection[Any]) -> set[str]:
        rows = conn.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
        ).fetchall()
        return {name for (name,) in rows}

    def _create(self, conn: psycopg.Connection[Any]) -> None:
        from twitter_crawler import __version__

        for statement in _SCHEMA.split(";"):
            if statement.strip():
                conn.execute(statement.encode())
        with conn.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO meta (name, value) VALUES (%s, %s)",
                [
                    ("application", APPLICATION),
                    ("schema_version", str(SCHEMA_VERSION)),
                    ("created", time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())),
                    ("created_by", f"{APPLICATION} {__version__}"),
                ],
            )

    def _connection(self) -> psycopg.Connection[Any]:
        if self._conn is None:
            raise StoreError(f"the store {self.url} is not open")
        if self._conn.closed:
            # The server restarted or the network dropped the connection: the pipeline retries
            # the batch, and the retry connects again.
            psycopg = _import_psycopg()
            try:
                self._conn = self._connect(psycopg)
            except (StoreConfigError, psycopg.Error) as exc:
                # Mid-crawl, even a refused password is worth the pipeline's retries.
                message = str(exc) if isinstance(exc, StoreConfigError) else self._message(exc)
                raise StoreError(f"cannot connect again to {self.url}: {message}") from None
        return self._conn

    # -- writing -------------------------------------------------------------------------------

    def write(self, batch: Batch) -> WriteResult:
        if self.readonly:
            raise StoreError(f"the store {self.url} is open read-only")
        psycopg = _import_psycopg()
        try:
            records = read_batch(batch)
        except BadBatch as exc:
            raise StoreError(f"batch rejected, nothing written: {exc}") from None
        with self._lock:
            conn = self._connection()
            for attempt in range(CONFLICT_RETRIES + 1):
                try:
                    with conn.transaction():
                        return self._write(conn, records)
                except (
                    psycopg.errors.DeadlockDetected,
                    psycopg.errors.SerializationFailure,
                ) as exc:
                    # Another writer held rows this batch needed, in the other order: nothing
                    # of this transaction stayed; run it again.
                    if attempt == CONFLICT_RETRIES:
                        raise StoreError(
                            f"cannot write to the store {self.url}: {self._message(exc)}"
                        ) from None
                    logger.debug("Write conflict in %s, retrying: %s", self.url, exc)
                except psycopg.Error as exc:
                    raise StoreError(
                        f"cannot write to the store {self.url}: {self._message(exc)}"
                    ) from None
        raise AssertionError("unreachable")

    def _write(self, conn: psycopg.Connection[Any], records: Records) -> WriteResult:
        result = WriteResult()
        now: int = conn.execute(f"SELECT {_NOW_MS}").fetchone()[0]  # type: ignore[index]
        rows = self._write_items(conn, records, now, result)
        if records.edges:
            self._write_edges(conn, records, rows, now, result)
        if records.watermarks:
            with conn.cursor() as cursor:
                # A watermark only moves forward, also against another writer's.
                cursor.executemany(
                    'INSERT INTO watermarks AS w ("userId", "sinceId", "dateModified") '
                    'VALUES (%s, %s, %s) ON CONFLICT ("userId") DO UPDATE SET '
                    '"sinceId" = excluded."sinceId", '
                    '"dateModified" = excluded."dateModified" WHERE CASE '
                    "WHEN w.\"sinceId\" ~ '^[0-9]+$' AND excluded.\"sinceId\" ~ '^[0-9]+$' "
                    'THEN excluded."sinceId"::numeric > w."sinceId"::numeric '
                    'ELSE excluded."sinceId" <> w."sinceId" END',
                    [(user_id, since_id, now) for user_id, since_id in records.watermarks],
                )
        for page in records.pages:
            self._write_page(conn, page, now, result.edges_removed)
        return result

    def _write_items(
        self, conn: psycopg.Connection[Any], records: Records, now: int, result: WriteResult
    ) -> dict[Key, _Row]:
        """Upserts the batch's items and the edges' ends; returns every one with its rowid."""
        wanted: set[Key] = {(kind, key) for kind, key, _ in records.items}
        for source, _, target in records.edges:
            wanted.add(source)
            wanted.add(target)
        # Locked until the commit: no other writer changes them between the read and the merge.
        rows = self._lookup(conn, sorted(wanted))
        # The merge and the counts of the SQLite store, on rows nobody else can change now.
        for kind, key, props in records.items:
            row = rows.get((kind, key))
            if row is None:
                rows[(kind, key)] = _Row(None, props, dirty=True)
                result.created[kind] += 1
            elif merge(row.properties, props):
                row.dirty = True
                result.updated[kind] += 1
            else:
                result.unchanged[kind] += 1
        for source, _, target in records.edges:
            for kind, key in (source, target):
                if (kind, key) not in rows:
                    rows[(kind, key)] = _Row(None, minimal_properties(kind, key), dirty=True)
                    result.created[kind] += 1

        new = sorted((k, row) for k, row in rows.items() if row.rowid is None)
        updates = [
            (json.dumps(row.properties), now, row.rowid)
            for row in rows.values()
            if row.rowid is not None and row.dirty
        ]
        with conn.cursor() as cursor:
            if new:
                # In key order, so two writers inserting the same new keys wait for each other
                # in the same order. A key another writer inserted since the look-up is merged
                # into (its properties || ours), not duplicated.
                cursor.executemany(
                    'INSERT INTO items AS i (id, type, key, properties, "dateCreated", '
                    '"dateModified") VALUES (%s, %s, %s, %s::jsonb, %s, %s) '
                    "ON CONFLICT (type, key) DO UPDATE SET "
                    "properties = i.properties || excluded.properties, "
                    '"dateModified" = CASE WHEN i.properties @> excluded.properties '
                    'THEN i."dateModified" ELSE excluded."dateModified" END '
                    "RETURNING rowid, (xmax = 0) AS inserted",
                    [
                        (pod_id(kind, key), kind, key, json.dumps(row.properties), now, now)
                        for (kind, key), row in new
                    ],
                    returning=True,
                )
                for (kind, _), row in new:
                    rowid, inserted = cursor.fetchone()  # type: ignore[misc]
                    row.rowid = rowid
                    if not inserted:
                        # Created by another writer in the meantime: ours was a merge.
                        result.created[kind] -= 1
                        result.updated[kind] += 1
                    cursor.nextset()
                result.created = +result.created
            if updates:
                cursor.executemany(
                    'UPDATE items SET properties = %s::jsonb, "dateModified" = %s '
                    "WHERE rowid = %s",
                    updates,
                )
        return rows

    @staticmethod
    def _write_edges(
        conn: psycopg.Connection[Any],
        records: Records,
        rows: dict[Key, _Row],
        now: int,
        result: WriteResult,
    ) -> None:
        values = sorted(
            {(rows[source].rowid or 0, name, rows[target].rowid or 0)
             for source, name, target in records.edges}
        )
        # One statement, in key order (as the items): RETURNING lists the edges that were new.
        inserted = conn.execute(
            'INSERT INTO edges (source, name, target, "dateCreated") '
            "SELECT s, n, t, %s FROM unnest(%s::bigint[], %s::text[], %s::bigint[]) "
            "AS v (s, n, t) ORDER BY s, n, t "
            "ON CONFLICT DO NOTHING RETURNING name",
            (now, [v[0] for v in values], [v[1] for v in values], [v[2] for v in values]),
        ).fetchall()
        for (name,) in inserted:
            result.edges_created[name] += 1

    @staticmethod
    def _lookup(conn: psycopg.Connection[Any], keys: list[Key]) -> dict[Key, _Row]:
        """The stored items of these keys, locked until the transaction ends."""
        rows: dict[Key, _Row] = {}
        for chunk in _chunks(keys):
            found = conn.execute(
                "SELECT i.rowid, i.type, i.key, i.properties FROM items AS i "
                "JOIN unnest(%s::text[], %s::text[]) AS w (type, key) "
                "ON i.type = w.type AND i.key = w.key ORDER BY i.rowid FOR NO KEY UPDATE OF i",
                ([kind for kind, _ in chunk], [key for _, key in chunk]),
            ).fetchall()
            for rowid, kind, key, properties in found:
                rows[(kind, key)] = _Row(rowid, properties)
        return rows

    def _write_page(
        self, conn: psycopg.Connection[Any], page: Page, now: int, removed: Counter[str]
    ) -> None:
        source, name, walk_id = page.source, page.name, page.walk_id
        row = conn.execute(
            'INSERT INTO contact_walks ("walkId", source, name, "dateCreated") '
            'VALUES (%s, %s, %s, %s) ON CONFLICT ("walkId") DO UPDATE SET '
            '"walkId" = excluded."walkId" RETURNING rowid',
            (walk_id, source, name, now),
        ).fetchone()
        assert row is not None
        walk = row[0]
        if page.targets:
            conn.execute(
                "INSERT INTO contact_walk_targets (walk, target) "
                "SELECT %s, t FROM unnest(%s::text[]) AS t ORDER BY t ON CONFLICT DO NOTHING",
                (walk, sorted(set(page.targets))),
            )
        if not page.complete:
            return
        # Read in full: the refresh of this list can be newest-first until a full one is due.
        conn.execute(
            'INSERT INTO contact_reads (source, name, "dateRead") VALUES (%s, %s, %s) '
            'ON CONFLICT (source, name) DO UPDATE SET "dateRead" = excluded."dateRead"',
            (source, name, now),
        )
        source_row = conn.execute(
            "SELECT rowid FROM items WHERE type = 'Account' AND key = %s", (source,)
        ).fetchone()
        if source_row is not None:
            deleted = conn.execute(
                "DELETE FROM edges WHERE source = %s AND name = %s AND target NOT IN ("
                " SELECT i.rowid FROM contact_walk_targets AS w"
                " JOIN items AS i ON i.type = 'Account' AND i.key = w.target"
                " WHERE w.walk = %s)",
                (source_row[0], name, walk),
            ).rowcount
            if deleted > 0:
                removed[name] += deleted
        # This walk is done, and any older unfinished walk of the same list is obsolete (their
        # targets go with them: ON DELETE CASCADE).
        conn.execute(
            "DELETE FROM contact_walks WHERE source = %s AND name = %s", (source, name)
        )

    # -- reading -------------------------------------------------------------------------------

    def _query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        psycopg = _import_psycopg()
        with self._lock:
            conn = self._connection()
            try:
                return conn.execute(sql, params).fetchall()
            except psycopg.Error as exc:
                raise StoreError(
                    f"cannot read the store {self.url}: {self._message(exc)}"
                ) from None

    def watermarks(self) -> dict[str, str]:
        return dict(self._query('SELECT "userId", "sinceId" FROM watermarks'))

    def contacts_state(self) -> ContactsState:
        return contacts_state(self._query, date_read='"dateRead"')

    def media_state(self) -> MediaState:
        return media_state(self._query, "properties->>'{name}'")

    def put_file(self, sha256: str, data: bytes) -> None:
        if self.readonly:
            raise StoreError(f"the store {self.url} is open read-only")
        psycopg = _import_psycopg()
        with self._lock:
            conn = self._connection()
            try:
                # Content-addressed: the same bytes put twice (by any writer) are kept once.
                conn.execute(
                    'INSERT INTO files (sha256, size, data, "dateCreated") '
                    "VALUES (%s, %s, %s, (extract(epoch FROM clock_timestamp()) * 1000)::bigint) "
                    "ON CONFLICT DO NOTHING",
                    (sha256, len(data), data),
                )
            except psycopg.Error as exc:
                raise StoreError(
                    f"cannot write a file to the store {self.url}: {self._message(exc)}"
                ) from None

    def file_data(self, sha256: str) -> bytes | None:
        """The bytes of the File with this sha256, if the store has them."""
        rows = self._query("SELECT data FROM files WHERE sha256 = %s", (sha256,))
        return bytes(rows[0][0]) if rows else None

    # -- what ``scrapy store`` shows ---------------------------------------------------------

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
            "SELECT properties FROM items WHERE type = 'Account' "
            "AND lower(properties->>'handle') = lower(%s) "
            'ORDER BY "dateModified" DESC LIMIT 1',
            (handle.lstrip("@"),),
        )
        if not rows:
            return None
        account: dict[str, Any] = rows[0][0]
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
            " WHERE a.type = 'Account' AND a.key = %s"
            " ORDER BY length(t.key) DESC, t.key DESC"
            " LIMIT %s",
            (account["externalId"], limit),
        )
        return [properties for (properties,) in rows]

    def find(self, key: str) -> list[dict[str, Any]]:
        """Every item keyed ``key`` (an externalId, or a Website url), with its edges."""
        found = []
        rows = self._query(
            'SELECT rowid, id, type, key, properties, "dateCreated", "dateModified" FROM items '
            "WHERE key = %s ORDER BY type",
            (key,),
        )
        for rowid, item_id, kind, item_key, properties, created, modified in rows:
            outgoing = self._query(
                "SELECT e.name, t.type, t.key, t.properties FROM edges AS e"
                " JOIN items AS t ON t.rowid = e.target WHERE e.source = %s"
                " ORDER BY e.name, t.type, length(t.key), t.key",
                (rowid,),
            )
            incoming = self._query(
                "SELECT name, count(*) FROM edges WHERE target = %s GROUP BY name ORDER BY name",
                (rowid,),
            )
            found.append(
                {
                    "id": item_id,
                    "type": kind,
                    "key": item_key,
                    "properties": properties,
                    "dateCreated": created,
                    "dateModified": modified,
                    "outgoing": [tuple(row) for row in outgoing],
                    "incoming": dict(incoming),
                }
            )
        return found
