"""What the incremental-import tests share: the two stores as a crawl sees them, read back
directly (the SQLite file; the Pod's ``/_podserver/dump``), the crawl as a process that can be
killed, and the comparison of a store with the emulator's ground truth.

Items are compared as ``key -> properties`` with :func:`tests.support.crawl.key_of` keys and the
``type`` field included, as the truth and feed exports have them. Edges are compared as keys,
with duplicates kept, so that a twin edge is seen.
"""

from __future__ import annotations

import json
import re
import secrets
import sqlite3
import subprocess
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from tests.support.apiversion import TIMELINE_ENDPOINTS, V1, ApiVersion, request_user
from tests.support.crawl import CrawlResult, crawl_command, crawl_env, key_of, merged, run_crawl
from tests.support.servers import ROOT, ServerProcess

HANDLE = "alice"
DATA_TYPES = ("Account", "Tweet", "Photo", "Video", "Website", "File")
CONTACT_EDGES = ("follower", "following")
#: Properties the Pod keeps as milliseconds since the epoch; the truth has ISO 8601 strings.
DATE_PROPERTIES = ("postDate", "dateJoined")
POD_BASE_FIELDS = {"id", "type", "dateCreated", "dateModified", "dateServerModified", "deleted"}

Key = tuple[str, ...]


def ms_to_iso(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        return datetime.fromtimestamp(value / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return value


@dataclass
class Snapshot:
    """What a store holds: items (key -> properties with ``type``), edges (keys, duplicates
    kept), each item's ``dateModified``, the timeline watermarks, and item keys stored twice."""

    items: dict[Key, dict[str, Any]] = field(default_factory=dict)
    edges: list[Key] = field(default_factory=list)
    modified: dict[Key, Any] = field(default_factory=dict)
    watermarks: dict[str, str] = field(default_factory=dict)
    twins: list[Key] = field(default_factory=list)

    def count(self, kind: str) -> int:
        return sum(1 for key in self.items if key[0] == kind)


class StoreTarget:
    """One store a crawl writes to, named by its ``POD_*`` settings, read back directly."""

    kind = ""

    def settings(self) -> dict[str, str]:
        raise NotImplementedError

    def snapshot(self) -> Snapshot:
        raise NotImplementedError

    def tweet_count(self) -> int:
        return self.snapshot().count("Tweet")


class SQLiteTarget(StoreTarget):
    kind = "sqlite"

    def __init__(self, path: Path) -> None:
        self.path = path

    def settings(self) -> dict[str, str]:
        return {"POD_URL": f"sqlite:///{self.path}"}

    def _read(self, queries: Callable[[sqlite3.Connection], Any]) -> Any:
        if not self.path.exists():
            return None
        conn = sqlite3.connect(self.path, timeout=30)
        try:
            return queries(conn)
        except sqlite3.OperationalError:  # created by the crawl, schema not written yet
            return None
        finally:
            conn.close()

    def snapshot(self) -> Snapshot:
        def read(conn: sqlite3.Connection) -> Snapshot:
            snap = Snapshot()
            for kind, key, props, modified in conn.execute(
                "SELECT type, key, properties, dateModified FROM items"
            ):
                item_key = key_of({"type": kind, "url": key, "externalId": key})
                snap.items[item_key] = {"type": kind, **json.loads(props)}
                snap.modified[item_key] = modified
            for st, sk, name, tt, tk in conn.execute(
                "SELECT sourceType, sourceKey, name, targetType, targetKey FROM edge_keys"
            ):
                snap.edges.append(("Edge", st, sk, name, tt, tk))
            snap.watermarks = dict(conn.execute("SELECT userId, sinceId FROM watermarks"))
            return snap

        return self._read(read) or Snapshot()

    def tweet_count(self) -> int:
        count = self._read(
            lambda conn: conn.execute("SELECT count(*) FROM items WHERE type = 'Tweet'").fetchone()
        )
        return count[0] if count else 0


class PodTarget(StoreTarget):
    """An owner (fresh keys: an empty database) on a running test Pod."""

    kind = "pod"

    def __init__(self, server: ServerProcess) -> None:
        self.server = server
        self.owner_key, self.database_key = secrets.token_hex(32), secrets.token_hex(32)

    def settings(self) -> dict[str, str]:
        return {
            "POD_URL": self.server.url,
            "POD_OWNER_KEY": self.owner_key,
            "POD_DATABASE_KEY": self.database_key,
        }

    def dump(self) -> dict[str, Any]:
        return self.server.get_json(f"/_podserver/dump?owner={self.owner_key}")

    def snapshot(self) -> Snapshot:
        dump = self.dump()
        snap = Snapshot()
        by_id: dict[str, Key] = {}
        deleted = {item["id"] for item in dump["items"] if item["deleted"]}
        for item in dump["items"]:
            if item["deleted"]:
                continue
            if item["type"] == "TwitterTimelineWatermark":
                snap.watermarks[item["userId"]] = item["sinceId"]
                continue
            if item["type"] not in DATA_TYPES:
                continue
            props = {k: v for k, v in item.items() if k not in POD_BASE_FIELDS and v is not None}
            for name in DATE_PROPERTIES:
                if name in props:
                    props[name] = ms_to_iso(props[name])
            item_key = key_of({"type": item["type"], **props})
            if item_key in snap.items:
                snap.twins.append(item_key)
            by_id[item["id"]] = item_key
            snap.items[item_key] = {"type": item["type"], **props}
            snap.modified[item_key] = item["dateModified"]
        for edge in dump["edges"]:
            if edge["_self"] in deleted:
                continue
            source, target = by_id[edge["_source"]], by_id[edge["_target"]]
            snap.edges.append(("Edge", *source, edge["_name"], *target))
        return snap


class PostgresTarget(StoreTarget):
    """A database of its own on the session's PostgreSQL server."""

    kind = "postgres"

    def __init__(self, url: str) -> None:
        self.url = url

    def settings(self) -> dict[str, str]:
        return {"POD_URL": self.url}

    def _read(self, queries: Callable[[Any], Any]) -> Any:
        import psycopg

        with psycopg.connect(self.url) as conn:
            try:
                return queries(conn)
            except psycopg.errors.UndefinedTable:  # no crawl has created the tables yet
                return None

    def snapshot(self) -> Snapshot:
        def read(conn: Any) -> Snapshot:
            snap = Snapshot()
            for kind, key, props, modified in conn.execute(
                'SELECT type, key, properties, "dateModified" FROM items'
            ):
                item_key = key_of({"type": kind, "url": key, "externalId": key})
                if item_key in snap.items:
                    snap.twins.append(item_key)
                snap.items[item_key] = {"type": kind, **props}
                snap.modified[item_key] = modified
            for st, sk, name, tt, tk in conn.execute(
                'SELECT "sourceType", "sourceKey", name, "targetType", "targetKey" FROM edge_keys'
            ):
                snap.edges.append(("Edge", st, sk, name, tt, tk))
            snap.watermarks = dict(conn.execute('SELECT "userId", "sinceId" FROM watermarks'))
            return snap

        return self._read(read) or Snapshot()

    def tweet_count(self) -> int:
        count = self._read(
            lambda conn: conn.execute("SELECT count(*) FROM items WHERE type = 'Tweet'").fetchone()
        )
        return count[0] if count else 0


# -- the crawl ------------------------------------------------------------------------------------


def crawl(api_url: str, target: StoreTarget, *, settings: dict[str, str] | None = None,
          log: Path | None = None, timeout: float = 240) -> CrawlResult:
    """``scrapy crawl twitter -a handle=alice`` into ``target``, run to its end; its log is
    also kept in the file ``log``, if given (to look at after a failure)."""
    result = run_crawl(api_url, HANDLE, settings={**target.settings(), **(settings or {})},
                       env={}, timeout=timeout)
    if log is not None:
        log.write_text(result.log, encoding="utf-8")
    return result


class CrawlProcess:
    """A crawl running in the background, its log in a file (a full pipe never blocks it)."""

    def __init__(self, api_url: str, target: StoreTarget, log_path: Path,
                 settings: dict[str, str] | None = None) -> None:
        self.log_path = log_path
        self._log: IO[str] = log_path.open("w", encoding="utf-8")
        cmd = crawl_command(api_url, HANDLE, settings={**target.settings(), **(settings or {})})
        self.proc = subprocess.Popen(  # noqa: S603 (our own command line)
            cmd, stdout=self._log, stderr=subprocess.STDOUT, text=True, cwd=ROOT, env=crawl_env({}),
        )

    def running(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> int:
        """``kill -9``: no shutdown of any kind."""
        self.proc.kill()
        return self.wait()

    def wait(self, timeout: float = 120) -> int:
        try:
            return self.proc.wait(timeout)
        finally:
            self._log.close()

    @property
    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8")

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(30)
        self._log.close()


def wait_until(condition: Callable[[], Any], what: str, timeout: float = 60,
               interval: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


def crawl_stats(log: str) -> dict[str, int]:
    """The crawl's ``twitter/...`` integer stats, from the stats dump at the end of its log."""
    return {name: int(value) for name, value in re.findall(r"'(twitter/[^']+)': (\d+)[,}]", log)}


def finish_reason(log: str) -> str | None:
    found = re.findall(r"'finish_reason': '([^']+)'", log)
    return found[-1] if found else None


def error_lines(log: str) -> list[str]:
    return [line for line in log.splitlines() if re.match(r"^\S+ \S+ \[[^\]]+\] ERROR: ", line)]


# -- the emulator -------------------------------------------------------------------------------


def truth(emulator: ServerProcess, api: ApiVersion = V1) -> dict[Key, dict[str, Any]]:
    """The ground truth of a complete import over ``api`` now, one entry per key."""
    return merged(emulator.get_json(
        f"/_emulator/truth?handle={HANDLE}&following_tweets=5&api={api.version}")["items"])


def me_id(emulator: ServerProcess) -> str:
    return emulator.get_json("/_emulator/world")["user_id"]


def log_seq(emulator: ServerProcess) -> int:
    """The number of the last request in the emulator's log (none listed: none is newer)."""
    return emulator.get_json(f"/_emulator/log?since={2**62}")["last_seq"]


def timeline_requests(emulator: ServerProcess, since: int) -> list[dict[str, Any]]:
    """The timeline requests (``statuses/user_timeline`` or ``users/tweets``) answered after
    log entry ``since``."""
    return [
        entry
        for entry in emulator.get_json(f"/_emulator/log?since={since}")["requests"]
        if entry["endpoint"] in TIMELINE_ENDPOINTS
    ]


def timeline_user(entry: dict[str, Any]) -> str:
    """The user id a timeline request of the emulator's log asks for."""
    user = request_user(entry)
    assert user is not None, entry
    return user


def per_user(requests: list[dict[str, Any]]) -> Counter[str]:
    """How many of these timeline requests each user id got."""
    return Counter(timeline_user(entry) for entry in requests)


# -- comparison ---------------------------------------------------------------------------------


def _comparable(key: Key, props: dict[str, Any], me: str) -> dict[str, Any]:
    # isMe is true on the imported account only; other accounts may carry no isMe or false.
    if key[0] == "Account" and key[1] != me and not props.get("isMe"):
        return {k: v for k, v in props.items() if k != "isMe"}
    return props


def _split(truth_items: dict[Key, dict[str, Any]]) -> tuple[dict[Key, dict[str, Any]], set[Key]]:
    items = {k: v for k, v in truth_items.items() if k[0] != "Edge"}
    edges = {k for k in truth_items if k[0] == "Edge"}
    return items, edges


def _is_contact(edge: Key, me: str) -> bool:
    return edge[3] in CONTACT_EDGES and edge[1:3] == ("Account", me)


def assert_no_twins(snap: Snapshot) -> None:
    assert snap.twins == [], f"items stored twice: {snap.twins[:5]}"
    twins = [edge for edge, n in Counter(snap.edges).items() if n > 1]
    assert twins == [], f"{len(twins)} edges stored twice, e.g. {twins[:3]}"


def assert_equals_truth(snap: Snapshot, want: dict[Key, dict[str, Any]], me: str) -> None:
    """The store holds exactly the truth: every item with its properties, every edge, no more."""
    assert_no_twins(snap)
    items, edges = _split(want)
    missing = sorted(set(items) - set(snap.items))
    extra = sorted(set(snap.items) - set(items))
    assert not missing, f"{len(missing)} items missing, e.g. {missing[:5]}"
    assert not extra, f"{len(extra)} items that should not exist, e.g. {extra[:5]}"
    wrong = [
        key for key, props in items.items()
        if _comparable(key, snap.items[key], me) != _comparable(key, props, me)
    ]
    assert not wrong, (
        f"{len(wrong)} items differ, e.g. {wrong[0]}: store {snap.items[wrong[0]]} "
        f"!= truth {items[wrong[0]]}"
    )
    got_edges = set(snap.edges)
    assert not edges - got_edges, f"edges missing, e.g. {sorted(edges - got_edges)[:5]}"
    assert not got_edges - edges, f"extra edges, e.g. {sorted(got_edges - edges)[:5]}"


def assert_updated_to_truth(
    snap: Snapshot,
    before: dict[Key, dict[str, Any]],
    after: dict[Key, dict[str, Any]],
    me: str,
) -> None:
    """After a rerun on a changed world, the store holds the new truth exactly where a crawl
    can see it, and what the first run imported legitimately stays:

    * every item of the new truth, with its new properties; accounts updated in place. An
      account that the rerun does not see again (the author of an old, already imported tweet)
      keeps the properties the first run stored;
    * the follower and following edges of the new truth, and no others (unfollows removed);
    * every other edge of the new truth; the only other items and edges are the first run's;
    * nothing twice.
    """
    assert_no_twins(snap)
    old_items, old_edges = _split(before)
    new_items, new_edges = _split(after)
    missing = sorted(set(new_items) - set(snap.items))
    assert not missing, f"{len(missing)} items of the new truth missing, e.g. {missing[:5]}"
    extra = sorted(set(snap.items) - set(new_items) - set(old_items))
    assert not extra, f"{len(extra)} items in neither truth, e.g. {extra[:5]}"

    fresh = {("Account", me)} | {
        ("Account", edge[5]) for edge in new_edges if _is_contact(edge, me)
    }
    for key, props in snap.items.items():
        got = _comparable(key, props, me)
        new = _comparable(key, new_items[key], me) if key in new_items else None
        old = _comparable(key, old_items[key], me) if key in old_items else None
        if key in fresh or (key in new_items and key[0] != "Account"):
            assert got == new, f"{key}: store {props} != new truth {new_items[key]}"
        else:
            assert got in (new, old), f"{key}: store {props} is neither truth ({new} / {old})"

    got_edges = set(snap.edges)
    got_contacts = {e for e in got_edges if _is_contact(e, me)}
    want_contacts = {e for e in new_edges if _is_contact(e, me)}
    assert not got_contacts - want_contacts, (
        f"follow edges the new truth does not have (unfollows not removed), e.g. "
        f"{sorted(got_contacts - want_contacts)[:5]}"
    )
    assert not want_contacts - got_contacts, (
        f"follow edges of the new truth missing, e.g. {sorted(want_contacts - got_contacts)[:5]}"
    )
    assert not new_edges - got_edges, f"edges missing, e.g. {sorted(new_edges - got_edges)[:5]}"
    extra_edges = got_edges - new_edges - old_edges
    assert not extra_edges, f"edges in neither truth, e.g. {sorted(extra_edges)[:5]}"

