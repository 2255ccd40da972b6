"""Reads what an embedded store holds, in the shape of the emulator's ground truth."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from tests.support.crawl import merged


def _ref(kind: str, key: str) -> dict[str, str]:
    return {"type": kind, "url": key} if kind == "Website" else {"type": kind, "externalId": key}


def sqlite_items(path: Path) -> dict[tuple[str, ...], dict[str, Any]]:
    """Every item and edge of the store, keyed like :func:`tests.support.crawl.key_of`."""
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        items = [{"type": t, **json.loads(p)} for t, p in
                 db.execute("SELECT type, properties FROM items")]
        edges = [{"type": "Edge", "name": n, "source": _ref(st, sk), "target": _ref(tt, tk)}
                 for st, sk, n, tt, tk in
                 db.execute("SELECT sourceType, sourceKey, name, targetType, targetKey FROM edge_keys")]
    finally:
        db.close()
    return merged(items + edges)


def truth_items(truth: list[dict[str, Any]]) -> dict[tuple[str, ...], dict[str, Any]]:
    return merged(truth)
