"""Fixtures of the incremental-import tests: real emulator and Pod processes, and the store a
crawl writes to, once per kind (``sqlite``: a file in ``tmp_path``; ``pod``: a fresh owner on
the session's test Pod)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.incremental.support import PodTarget, SQLiteTarget, StoreTarget


@pytest.fixture(params=["sqlite", "pod"])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> StoreTarget:
    if request.param == "sqlite":
        return SQLiteTarget(tmp_path / "pod.sqlite3")
    return PodTarget(request.getfixturevalue("pod_server"))
