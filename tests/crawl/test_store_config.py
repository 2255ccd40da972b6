"""A store that cannot be used is one clear line at start-up and a non-zero exit, before any request."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.support.crawl import run_crawl
from tests.support.servers import ServerProcess


def _foreign(tmp_path: Path) -> str:
    path = tmp_path / "someone-elses.sqlite3"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)")
    return f"sqlite:///{path}"


def _corrupt(tmp_path: Path) -> str:
    path = tmp_path / "corrupt.sqlite3"
    path.write_bytes(b"SQLite format 3\x00" + b"\xff" * 4096)
    return f"sqlite:///{path}"


@pytest.mark.parametrize(
    ("make_url", "message"),
    [
        (_foreign, "not a twitter_crawler store"),
        (_corrupt, ""),
    ],
    # A POD_URL that is no store address at all (ftp://, sqlite:/// without a file) is a bad
    # setting, exit 2 before the crawl starts: tests/crawl/test_settings_check.py.
    ids=["foreign-sqlite", "corrupt-sqlite"],
)
def test_unusable_store_is_a_clear_start_up_error(
    emulator: ServerProcess, tmp_path: Path, make_url: object, message: str
) -> None:
    url = make_url(tmp_path)  # type: ignore[operator]
    before = emulator.get_json("/_emulator/log")["last_seq"]
    result = run_crawl(emulator.url, "alice", settings={"POD_URL": url})
    assert result.returncode == 1, result.stderr[-2000:]
    assert "'finish_reason': 'pod_config_error'" in result.stderr
    errors = [line for line in result.stderr.splitlines() if "] ERROR: " in line]
    assert len(errors) == 1 and "Cannot use the store: " in errors[0], errors
    assert message in errors[0]
    assert emulator.get_json("/_emulator/log")["last_seq"] == before
