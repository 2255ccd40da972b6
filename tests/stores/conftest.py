"""The stores behind one harness: the contract tests run once per store.

The Pod store talks to a real ``python -m pod_testserver`` process (one per session);
each test gets its own owner (fresh keys), hence its own empty Pod database. The PostgreSQL
store talks to a real PostgreSQL server (one per session); each test gets its own database.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.servers import PostgresServer, ServerProcess
from twitter_crawler.stores.base import Store

DATA_TYPES = {"Account", "Tweet", "Photo", "Video", "Website"}
BASE_FIELDS = {"id", "type", "dateCreated", "dateModified", "dateServerModified", "deleted"}


def new_keys() -> tuple[str, str]:
    return secrets.token_hex(32), secrets.token_hex(32)


class Harness:
    """Makes stores of one kind that share their data, and reads that data back."""

    kind = ""

    def store(self) -> Store:
        raise NotImplementedError

    def snapshot(self) -> tuple[dict[tuple[str, str], dict[str, Any]], list[tuple[Any, ...]]]:
        """Items ``(type, key) -> properties`` and edges ``(source, name, target)`` (with
        duplicates, if any), where source and target are ``(type, key)``."""
        raise NotImplementedError


class SQLiteHarness(Harness):
    kind = "sqlite"

    def __init__(self, path: Path) -> None:
        self.path = path

    def store(self) -> Store:
        from twitter_crawler.stores.sqlite import SQLiteStore

        return SQLiteStore(self.path)

    def snapshot(self) -> tuple[dict[tuple[str, str], dict[str, Any]], list[tuple[Any, ...]]]:
        if not self.path.exists():
            return {}, []
        conn = sqlite3.connect(self.path)
        try:
            items = {
                (kind, key): json.loads(props)
                for kind, key, props in conn.execute("SELECT type, key, properties FROM items")
            }
            edges = [
                ((st, sk), name, (tt, tk))
                for st, sk, name, tt, tk in conn.execute(
                    "SELECT sourceType, sourceKey, name, targetType, targetKey FROM edge_keys"
                )
            ]
        finally:
            conn.close()
        return items, sorted(edges)


class PodHarness(Harness):
    kind = "pod"

    def __init__(self, server: ServerProcess) -> None:
        self.server = server
        self.owner_key, self.database_key = new_keys()

    def store(self) -> Store:
        from twitter_crawler.stores.pod import PodStore

        return PodStore(self.server.url, owner_key=self.owner_key, database_key=self.database_key)

    def dump(self) -> dict[str, Any]:
        return self.server.get_json(f"/_podserver/dump?owner={self.owner_key}")

    def snapshot(self) -> tuple[dict[tuple[str, str], dict[str, Any]], list[tuple[Any, ...]]]:
        dump = self.dump()
        keys = {}
        items = {}
        for item in dump["items"]:
            if item["type"] not in DATA_TYPES or item["deleted"]:
                continue
            key = item["url"] if item["type"] == "Website" else item["externalId"]
            assert (item["type"], key) not in items, f"two Pod items for {item['type']} {key}"
            keys[item["id"]] = (item["type"], key)
            items[(item["type"], key)] = {k: v for k, v in item.items() if k not in BASE_FIELDS}
        deleted = {item["id"] for item in dump["items"] if item["deleted"]}
        edges = [
            (keys[edge["_source"]], edge["_name"], keys[edge["_target"]])
            for edge in dump["edges"]
            if edge["_self"] not in deleted
        ]
        return items, sorted(edges)


class PostgresHarness(Harness):
    kind = "postgres"

    def __init__(self, server: PostgresServer, database: str) -> None:
        self.server = server
        self.url = server.create_database(database)

    def store(self) -> Store:
        from twitter_crawler.stores.postgres import PostgresStore

        return PostgresStore(self.url)

    def snapshot(self) -> tuple[dict[tuple[str, str], dict[str, Any]], list[tuple[Any, ...]]]:
        import psycopg

        with psycopg.connect(self.url) as conn:
            tables = {name for (name,) in conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'")}
            if "items" not in tables:
                return {}, []
            items = {(kind, key): props for kind, key, props in
                     conn.execute("SELECT type, key, properties FROM items")}
            edges = [((st, sk), name, (tt, tk)) for st, sk, name, tt, tk in conn.execute(
                'SELECT "sourceType", "sourceKey", name, "targetType", "targetKey" FROM edge_keys')]
        return items, sorted(edges)


def database_name(request: pytest.FixtureRequest) -> str:
    """A database name of the test's own (PostgreSQL names are at most 63 bytes)."""
    import hashlib

    return "t_" + hashlib.sha256(request.node.nodeid.encode()).hexdigest()[:24]


@pytest.fixture(params=["sqlite", "pod", "postgres"])
def harness(request: pytest.FixtureRequest, tmp_path: Path) -> Harness:
    if request.param == "sqlite":
        return SQLiteHarness(tmp_path / "store" / "pod.sqlite3")
    if request.param == "postgres":
        return PostgresHarness(request.getfixturevalue("postgres_server"), database_name(request))
    return PodHarness(request.getfixturevalue("pod_server"))


@pytest.fixture
def store(harness: Harness) -> Iterator[Store]:
    store = harness.store()
    store.open()
    yield store
    store.close()
