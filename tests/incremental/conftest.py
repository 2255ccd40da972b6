"""Fixtures of the incremental-import tests: real emulator and Pod processes, and the store a
crawl writes to, once per kind (``sqlite``: a file in ``tmp_path``; ``pod``: a fresh owner on
the session's test Pod)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.incremental.support import PodTarget, SQLiteTarget, StoreTarget
from tests.podserver.support import stop
from tests.support.servers import ServerProcess


@pytest.fixture(params=["sqlite", "pod"])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> StoreTarget:
    if request.param == "sqlite":
        return SQLiteTarget(tmp_path / "pod.sqlite3")
    return PodTarget(request.getfixturevalue("pod_server"))


@pytest.fixture
def start_emulator() -> Iterator[Callable[..., ServerProcess]]:
    """Starts an emulator of the test's own (tests change its world), stopped at the end."""
    started: list[ServerProcess] = []

    def start(*args: str) -> ServerProcess:
        server = ServerProcess("twitter_crawler.emulator", *args).start()
        started.append(server)
        return server

    yield start
    for server in started:
        stop(server)
