"""Fixtures of the media tests: a real emulator serving its media on a second port, the test Pod,
and the store a crawl writes to, once per kind."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.media.support import PodTarget, SQLiteTarget, Target
from tests.support.servers import ServerProcess

#: A small world with photos, GIFs, videos, shared ("meme") photos and default avatars.
WORLD = ("--handle", "alice", "--followers", "25", "--followings", "12", "--tweets", "120",
         "--following-tweets", "5", "--quotas", "off")


@pytest.fixture(params=["sqlite", "pod"])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Target:
    if request.param == "sqlite":
        return SQLiteTarget(tmp_path / "pod.sqlite3")
    return PodTarget(request.getfixturevalue("pod_server"))


@pytest.fixture
def start_emulator() -> Iterator[Callable[..., ServerProcess]]:
    started: list[ServerProcess] = []

    def start(*args: str) -> ServerProcess:
        server = ServerProcess("twitter_crawler.emulator", *WORLD, *args).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
