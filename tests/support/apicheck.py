"""What the rate-limit and error tests read after a ``scrapy crawl`` subprocess: the stats dump,
the ERROR lines, the emulator's request log, the SQLite store, and the ground truth to compare
them with; and a signed request made by the test itself (to spend a quota before a crawl).
"""

from __future__ import annotations

import datetime
import json
import re
import sqlite3
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

from oauthlib.oauth1 import Client

from tests.support.crawl import key_of, merged
from tests.support.servers import ServerProcess
from twitter_emulator.credentials import CRAWL_ENV as EMULATOR_CREDENTIALS

Key = tuple[str, ...]
LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \[(?P<logger>[^\]]+)\] (?P<level>[A-Z]+): (?P<msg>.*)$")


# -- the crawl's log ----------------------------------------------------------------------------


def stats(log: str) -> dict[str, Any]:
    """The last "Dumping Scrapy stats" dict of a crawl log."""
    start = log.rfind("Dumping Scrapy stats:\n")
    assert start >= 0, "no stats dump in the log:\n" + log[-2000:]
    text = log[start + len("Dumping Scrapy stats:\n"):]
    end = text.find("}\n")
    literal = text[: end + 1] if end >= 0 else text
    return eval(literal, {"__builtins__": {}, "datetime": datetime})  # noqa: S307 (our own log)


def lines(log: str, level: str | None = None, logger: str | None = None) -> list[str]:
    out = []
    for line in log.splitlines():
        m = LINE.match(line)
        if m and (level is None or m["level"] == level) and (logger is None or m["logger"] == logger):
            out.append(m["msg"])
    return out


def error_lines(log: str) -> list[str]:
    return lines(log, "ERROR")


# -- the emulator -------------------------------------------------------------------------------


def requests_log(server: ServerProcess, since: int = 0) -> list[dict[str, Any]]:
    return server.get_json(f"/_emulator/log?since={since}")["requests"]


def last_seq(server: ServerProcess) -> int:
    return server.get_json("/_emulator/log")["last_seq"]


def signed_get(
    base_url: str, endpoint: str, params: dict[str, str], creds: dict[str, str] | None = None
) -> tuple[int, dict[str, str], Any]:
    """A GET of ``/1.1/{endpoint}.json`` signed like the crawler signs (demo credentials)."""
    return signed_get_path(base_url, f"/1.1/{endpoint}.json", params, creds)


def signed_get_path(
    base_url: str, path: str, params: dict[str, str], creds: dict[str, str] | None = None
) -> tuple[int, dict[str, str], Any]:
    """A GET of any API path (``/2/users/by/username/alice``), signed as :func:`signed_get`."""
    creds = creds or EMULATOR_CREDENTIALS
    query = "&".join(f"{k}={v}" for k, v in params.items())
    url = f"{base_url}{path}" + (f"?{query}" if query else "")
    client = Client(creds["TWITTER_CONSUMER_KEY"], client_secret=creds["TWITTER_CONSUMER_SECRET"],
                    resource_owner_key=creds["TWITTER_ACCESS_TOKEN"],
                    resource_owner_secret=creds["TWITTER_ACCESS_SECRET"])
    _, headers, _ = client.sign(url, "GET")
    req = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:  # noqa: S310 (loopback)
            return resp.status, dict(resp.headers), json.load(resp)
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), json.loads(err.read() or b"null")


# -- what the crawl made ------------------------------------------------------------------------


def store_items(path: Path) -> tuple[dict[Key, dict[str, Any]], list[Key]]:
    """The SQLite store as (key -> properties with ``type``, edge keys with duplicates kept)."""
    items: dict[Key, dict[str, Any]] = {}
    edges: list[Key] = []
    with sqlite3.connect(path) as db:
        for kind, key, props in db.execute("SELECT type, key, properties FROM items"):
            item_key = key_of({"type": kind, "url": key, "externalId": key})
            assert item_key not in items, f"stored twice: {item_key}"
            items[item_key] = {"type": kind, **json.loads(props)}
        for st, sk, name, tt, tk in db.execute(
            "SELECT sourceType, sourceKey, name, targetType, targetKey FROM edge_keys"
        ):
            edges.append(("Edge", st, sk, name, tt, tk))
    db.close()
    return items, edges


def truth(server: ServerProcess, handle: str = "alice", **query: str) -> dict[Key, dict[str, Any]]:
    qs = "&".join(f"{k}={v}" for k, v in {"handle": handle, **query}.items())
    return merged(server.get_json(f"/_emulator/truth?{qs}")["items"])


def _comparable(props: dict[str, Any]) -> dict[str, Any]:
    # Non-self accounts may or may not carry ``isMe: false`` (being settled): compared without.
    if props.get("type") == "Account" and not props.get("isMe"):
        return {k: v for k, v in props.items() if k != "isMe"}
    return props


def assert_store_equals_truth(path: Path, want: dict[Key, dict[str, Any]]) -> None:
    """The store holds exactly the truth, every item with its properties and every edge, once."""
    items, edges = store_items(path)
    assert_world_equals(items, edges, want)


def assert_world_equals(items: dict[Key, dict[str, Any]], edges: list[Key],
                        want: dict[Key, dict[str, Any]]) -> None:
    """``items`` and ``edges`` (as a store holds them, twins kept) are exactly the truth ``want``
    (:func:`~tests.support.crawl.merged`): every item with its properties, every edge once."""
    twins = [e for e, n in Counter(edges).items() if n > 1]
    assert not twins, f"edges stored twice: {twins[:3]}"
    want_items = {k: v for k, v in want.items() if k[0] != "Edge"}
    want_edges = {k for k in want if k[0] == "Edge"}
    missing = sorted(set(want_items) - set(items))
    extra = sorted(set(items) - set(want_items))
    assert not missing, f"{len(missing)} items missing, e.g. {missing[:5]}"
    assert not extra, f"{len(extra)} items that should not exist, e.g. {extra[:5]}"
    wrong = [k for k, v in want_items.items() if _comparable(items[k]) != _comparable(v)]
    assert not wrong, f"{len(wrong)} items differ, e.g. {wrong[0]}: {items[wrong[0]]} != {want_items[wrong[0]]}"
    assert not want_edges - set(edges), f"edges missing: {sorted(want_edges - set(edges))[:5]}"
    assert not set(edges) - want_edges, f"extra edges: {sorted(set(edges) - want_edges)[:5]}"


def assert_export_equals_truth(exported: list[dict[str, Any]], want: dict[Key, dict[str, Any]]) -> None:
    """The feed export, read as upserts, is the truth; each item is exported once (only an
    account first seen as a minimal mention may come again in full)."""
    got = merged(exported)
    assert set(want) - set(got) == set(), f"missing: {sorted(set(want) - set(got))[:5]}"
    assert set(got) - set(want) == set(), f"should not exist: {sorted(set(got) - set(want))[:5]}"
    wrong = [k for k, v in want.items() if _comparable(got[k]) != _comparable(v)]
    assert not wrong, f"{len(wrong)} differ, e.g. {wrong[0]}: {got[wrong[0]]} != {want[wrong[0]]}"
    repeats = [k for k, n in Counter(key_of(i) for i in exported).items() if n > 1]
    assert all(k[0] == "Account" for k in repeats), f"exported twice: {repeats[:5]}"
