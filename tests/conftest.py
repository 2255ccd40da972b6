"""Fixtures shared by the test folders."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.podserver.support import podserver
from tests.support.servers import ServerProcess


@pytest.fixture(scope="session")
def pod_server() -> Iterator[ServerProcess]:
    """One Pod test server for the session; tests keep apart by owner (fresh keys each)."""
    with podserver() as server:
        yield server
