"""Fixtures of the incremental-import tests: real emulator and Pod processes, and the store a
crawl writes to, once per kind (``sqlite``: a file in ``tmp_path``; ``pod``: a fresh owner on
the session's test Pod; ``postgres``: a database of its own on the session's PostgreSQL server)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.incremental.support import PodTarget, PostgresTarget, SQLiteTarget, StoreTarget
from tests.stores.conftest import database_name


@pytest.fixture(params=["sqlite", "pod", "postgres"])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> StoreTarget:
    if request.param == "sqlite":
        return SQLiteTarget(tmp_path / "pod.sqlite3")
    if request.param == "postgres":
        server = request.getfixturevalue("postgres_server")
        return PostgresTarget(server.create_database(database_name(request)))
    return PodTarget(request.getfixturevalue("pod_server"))
