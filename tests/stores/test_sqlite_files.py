"""The SQLite store's file area (``put_file``): content-addressed, each file made under its
final name only if none has it; a file already there (same name, same size) is not written
again, and a short one (a crash while it was written) is replaced whole."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from twitter_crawler.stores.sqlite import SQLiteStore


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_files_land_under_their_sha256_and_a_stored_one_is_not_written_again(tmp_path: Path) -> None:
    path = tmp_path / "pod.sqlite3"
    store = SQLiteStore(path)
    store.open()
    first, second = b"first file", b"second file"
    store.put_file(_sha(first), first)
    store.put_file(_sha(first), first)  # again in the folder it made: the same bytes
    assert store.file_path(_sha(first)).read_bytes() == first
    store.close()

    # A later run (the folders exist): a file there is left as it is; a short one, left by a
    # crash of a program writing it in place, is replaced.
    short = store.file_path(_sha(second))
    short.parent.mkdir(parents=True, exist_ok=True)
    short.write_bytes(second[:3])
    before = os.stat(store.file_path(_sha(first)))
    again = SQLiteStore(path)
    again.open()
    again.put_file(_sha(first), first)
    again.put_file(_sha(second), second)
    again.close()
    after = os.stat(store.file_path(_sha(first)))
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert short.read_bytes() == second
    leftovers = [p.name for p in store.files_dir.rglob("*.part")]
    assert leftovers == []


def test_a_new_store_has_16_kb_pages_and_an_older_one_keeps_its_own(tmp_path: Path) -> None:
    """A store's page size is set when its file is made (16 KB: fewer page splits and writes
    for an import's inserts in key order); the file of an earlier release keeps 4 KB pages,
    and both checkpoint at the same WAL size."""
    import sqlite3

    new = SQLiteStore(tmp_path / "new.sqlite3")
    new.open()
    new.close()
    old_path = tmp_path / "old.sqlite3"
    made = sqlite3.connect(old_path)
    made.execute("PRAGMA page_size=4096")
    made.execute("VACUUM")
    made.close()
    old = SQLiteStore(old_path)
    old.open()
    old.close()
    for path, size, autocheckpoint in ((tmp_path / "new.sqlite3", 16384, 2500),
                                       (old_path, 4096, 10000)):
        with sqlite3.connect(path) as conn:
            assert conn.execute("PRAGMA page_size").fetchone()[0] == size
            assert conn.execute("SELECT count(*) FROM items").fetchone()[0] == 0
        store = SQLiteStore(path)
        store.open()
        conn = store._connection()
        assert conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == autocheckpoint
        store.close()
