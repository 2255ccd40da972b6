"""The SQLite store's writer process (``writer_process=True``, the archive import): its own
thread checkpoints the WAL while it writes, so the WAL stays bounded though the writer never
checkpoints, and the store is one file again once closed."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from twitter_crawler.stores.base import Batch
from twitter_crawler.stores.sqlite import SQLiteStore

BATCHES = 600
PER_BATCH = 200


def _batch(n: int) -> Batch:
    return Batch(
        items=[
            {"type": "Tweet", "externalId": str(n * PER_BATCH + i), "text": f"tweet {n} {i} " * 12}
            for i in range(PER_BATCH)
        ]
    )


def test_the_writer_process_keeps_the_wal_bounded_and_leaves_one_file(tmp_path: Path) -> None:
    path = tmp_path / "pod.sqlite3"
    wal = tmp_path / "pod.sqlite3-wal"
    store = SQLiteStore(path, writer_process=True)
    store.checkpoint_pages = 13  # about 200 kB of 16 KB pages
    # Looks often enough that the WAL cannot hold most of the test's writes between two, however
    # fast the machine writes (every 0.25 s, a quiet machine wrote 33 of the 35 MB in between).
    store.checkpoint_poll = 0.02
    store.open()
    sizes = []
    try:
        for n in range(BATCHES):
            result = store.write(_batch(n))
            assert result.created["Tweet"] == PER_BATCH
            sizes.append(wal.stat().st_size)
    finally:
        store.close()
    # Without checkpoints while it wrote (SQLite's own every 10,000 pages, here disabled), the
    # WAL would hold all that was written. How far it grows past the bound between two looks
    # of the checkpointer depends on the machine's speed: the WAL must start again, often.
    written = path.stat().st_size
    assert written > 6_000_000
    restarts = sum(later < earlier for earlier, later in zip(sizes, sizes[1:], strict=False))
    assert restarts >= 2, sizes
    assert max(sizes) < written * 0.8, sizes
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pod.sqlite3"]
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT count(*) FROM items").fetchone()[0] == BATCHES * PER_BATCH


def test_the_file_keeps_up_while_the_wal_grows_on(tmp_path: Path) -> None:
    """Below its bound the WAL is never started again (which makes the writer wait for a
    checkpoint's copy and fsyncs), yet what was committed reaches the file while the store is
    still open: closing it has only the last moments to copy."""
    import time

    path = tmp_path / "pod.sqlite3"
    wal = tmp_path / "pod.sqlite3-wal"
    store = SQLiteStore(path, writer_process=True)
    store.open()
    try:
        opened = path.stat().st_size
        sizes = []
        for n in range(120):  # a WAL of about 27 MB
            store.write(_batch(n))
            sizes.append(wal.stat().st_size)
        deadline = time.monotonic() + 20
        while path.stat().st_size < 4_000_000 and time.monotonic() < deadline:
            time.sleep(0.05)
        copied = path.stat().st_size
        assert wal.stat().st_size >= sizes[-1]
    finally:
        store.close()
    assert sizes == sorted(sizes), "the WAL started again below its bound"
    assert opened < 1_000_000 < 4_000_000 <= copied, (opened, copied)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pod.sqlite3"]
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT count(*) FROM items").fetchone()[0] == 120 * PER_BATCH
