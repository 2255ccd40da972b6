"""Packed runs of items and edges (the archive import's, stores/records.py): every store applies
them as it applies the same items as dicts. The SQLite store takes their properties as JSON text
and decodes one only to merge it: same rows, same counts."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from twitter_crawler.stores.base import Batch
from twitter_crawler.stores.records import pack, packed_dicts, read_batch
from twitter_crawler.stores.sqlite import SQLiteStore

FIRST: list[dict[str, Any]] = [
    {"type": "Account", "externalId": "7", "service": "twitter", "handle": "old"},
    {"type": "Tweet", "externalId": "1", "service": "twitter", "message": "a full text here"},
]
#: A stored key, a key twice in the run (the later adds and changes properties), a new one,
#: an unchanged one, a cut copy of a stored text, a value json alone can write.
SECOND: list[dict[str, Any]] = [
    {"type": "Account", "externalId": "7", "handle": "new", "displayName": "Seven"},
    {"type": "Tweet", "externalId": "2", "message": "first ✨", "lang": "en"},
    {"type": "Tweet", "externalId": "2", "message": "first ✨", "lang": "fr", "source": "web"},
    {"type": "Tweet", "externalId": "1", "message": "a full…"},
    {"type": "Website", "url": "https://example.org/", "big": 2**70},
]
EDGES: list[dict[str, Any]] = [
    {"type": "Edge", "name": "author", "source": {"type": "Tweet", "externalId": "2"},
     "target": {"type": "Account", "externalId": "7"}},
    {"type": "Edge", "name": "mention", "source": {"type": "Tweet", "externalId": "2"},
     "target": {"type": "Account", "externalId": "8"}},
]


def _packed(items: list[dict[str, Any]], edges: list[dict[str, Any]]) -> Batch:
    records = read_batch(Batch(items=list(items), edges=list(edges)))
    batch = Batch()
    batch.add_packed(pack(records.items, records.edges))
    return batch


def _rows(path: Path) -> tuple[list[Any], list[Any]]:
    with sqlite3.connect(path) as conn:
        items = conn.execute("SELECT rowid, id, type, key, properties FROM items ORDER BY rowid")
        edges = conn.execute("SELECT source, name, target FROM edges ORDER BY 1, 2, 3")
        return items.fetchall(), edges.fetchall()


def test_a_packed_run_is_stored_as_its_dicts_are(tmp_path: Path) -> None:
    results = {}
    for form in ("dicts", "packed"):
        store = SQLiteStore(tmp_path / f"{form}.sqlite3")
        store.open()
        store.write(Batch(items=[dict(i) for i in FIRST]))
        second = (Batch(items=[dict(i) for i in SECOND], edges=[dict(e) for e in EDGES])
                  if form == "dicts" else _packed(SECOND, EDGES))
        assert len(second) == len(SECOND) + len(EDGES)
        results[form] = store.write(second)
        store.close()
    assert results["packed"] == results["dicts"]
    assert results["packed"].created["Tweet"] == 1 and results["packed"].updated["Account"] == 1
    assert _rows(tmp_path / "packed.sqlite3") == _rows(tmp_path / "dicts.sqlite3")


def test_a_packed_run_reads_back_as_dicts_for_the_other_stores_and_exports() -> None:
    batch = _packed(SECOND, EDGES)
    as_dicts = read_batch(Batch(items=[dict(i) for i in SECOND], edges=[dict(e) for e in EDGES]))
    assert read_batch(batch).items == as_dicts.items
    assert read_batch(batch).edges == as_dicts.edges
    texts = read_batch(batch, texts=True).items
    assert all(type(props) is str for _, _, props in texts)
    assert packed_dicts(batch.items[0]) == [*SECOND, *EDGES]  # type: ignore[arg-type]
