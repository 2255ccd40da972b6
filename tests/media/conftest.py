"""Fixtures of the media tests: a real emulator serving its media on a second port, the test Pod,
and the store a crawl writes to, once per kind (SQLite, the test Pod, PostgreSQL)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.media.support import PodTarget, PostgresTarget, SQLiteTarget, Target
from tests.stores.conftest import database_name
from tests.support.servers import ServerProcess

#: A small world with photos, GIFs, videos, shared ("meme") photos and default avatars.
WORLD = ("--handle", "alice", "--followers", "25", "--followings", "12", "--tweets", "120",
         "--following-tweets", "5", "--quotas", "off")


@pytest.fixture(params=["sqlite", "pod", "postgres"])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Target:
    if request.param == "sqlite":
        return SQLiteTarget(tmp_path / "pod.sqlite3")
    if request.param == "postgres":
        server = request.getfixturevalue("postgres_server")
        return PostgresTarget(server.create_database(database_name(request)))
    return PodTarget(request.getfixturevalue("pod_server"))


@pytest.fixture
def start_world(start_emulator: Callable[..., ServerProcess]) -> Callable[..., ServerProcess]:
    """Starts an emulator of :data:`WORLD` (plus the test's own options)."""
    return lambda *args: start_emulator(*WORLD, *args)
