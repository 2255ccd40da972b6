"""Fixtures shared by the test folders."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from tests.podserver.support import podserver
from tests.support.servers import PostgresServer, RedisServer, ServerProcess


@pytest.fixture(scope="session")
def pod_server() -> Iterator[ServerProcess]:
    """One Pod test server for the session; tests keep apart by owner (fresh keys each)."""
    with podserver() as server:
        yield server


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One PostgreSQL server for the session (as an unprivileged user when the tests run as
    root); tests keep apart by database. It must start: a test that needs it fails otherwise."""
    with PostgresServer() as server:
        yield server


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """One real redis-server for the session (127.0.0.1, a free port, a password); tests keep
    apart by their emulators (budgets are named by the API's origin and the token). It must
    start: a test that needs it fails otherwise."""
    with RedisServer(tmp_path_factory.mktemp("redis")) as server:
        yield server


@pytest.fixture
def start_emulator() -> Iterator[Callable[..., ServerProcess]]:
    """Starts an emulator of the test's own (tests change its world), stopped at the end."""
    started: list[ServerProcess] = []

    def start(*args: str) -> ServerProcess:
        server = ServerProcess("twitter_emulator", *args).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
