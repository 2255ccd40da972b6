"""An archive import killed (SIGKILL) midway, then run again, ends with the whole archive and
nothing twice: the same items, edges and watermark as an import that was never interrupted.

The import writes SQLite from a child process (``stores/sqlite.py``, ``_WriterProcess``): killed
with its parent mid-batch, that batch is committed whole or not at all, and the child ends."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from tests.archive.support import run_archive, write_archive
from tests.support.crawl import SCRAPY, crawl_env
from tests.support.servers import ROOT

TWEETS = 40_000
WORLD = ["--handle", "alice", "--tweets", str(TWEETS), "--followers", "300", "--followings", "40",
         "--following-tweets", "2", "--likes", "50", "--seed", "5", "--parts", "2"]


def _tweets(store: Path) -> int:
    if not store.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{store}?mode=ro", uri=True, timeout=5) as db:
            return int(db.execute("SELECT count(*) FROM items WHERE type = 'Tweet'").fetchone()[0])
    except sqlite3.Error:
        return 0  # not created yet


def _content(store: Path) -> dict[str, object]:
    with sqlite3.connect(f"file:{store}?mode=ro", uri=True, timeout=30) as db:
        return {
            "items": sorted(db.execute("SELECT type, key, properties FROM items")),
            "edges": sorted(db.execute(
                "SELECT sourceType, sourceKey, name, targetType, targetKey FROM edge_keys")),
            "watermarks": sorted(db.execute("SELECT userId, sinceId FROM watermarks")),
        }


def test_killed_import_rerun_ends_whole_and_nothing_twice(tmp_path: Path) -> None:
    archive = tmp_path / "twitter-2023-01-01-kill.zip"
    write_archive(archive, *WORLD)

    clean = tmp_path / "clean.sqlite3"
    assert run_archive(archive, clean).returncode == 0

    store = tmp_path / "killed.sqlite3"
    cmd = [sys.executable, "-c", SCRAPY, "crawl", "archive", "-a", f"path={archive}",
           "-s", f"POD_URL=sqlite:///{store}"]
    proc = subprocess.Popen(  # noqa: S603 (our own command line)
        cmd, cwd=ROOT, env=crawl_env(None, {"POD_URL": f"sqlite:///{store}"}),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while _tweets(store) < 2_000 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert proc.poll() is None, "the import ended before it could be killed: make it larger"
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(30)
    assert proc.returncode == -signal.SIGKILL
    partly = _tweets(store)
    assert 0 < partly < TWEETS  # killed midway: some batches stored, not all

    rerun = run_archive(archive, store)
    assert rerun.returncode == 0, rerun.log

    killed, whole = _content(store), _content(clean)
    # The same items with the same properties, the same edges, once each, the same watermark.
    assert killed["items"] == whole["items"]
    assert killed["edges"] == whole["edges"]
    assert killed["watermarks"] == whole["watermarks"]
    assert len(whole["watermarks"]) == 1  # type: ignore[arg-type]
