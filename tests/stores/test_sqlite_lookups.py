"""The SQLite writer's shortcuts: a key filter that spares look-ups of keys not stored, the edge
ends looked up by rowid only and remembered from batch to batch (stores/sqlite.py, issue 17).

They must never change what is stored nor what a write reports: each scenario runs on stores
with the filter (of the usual size, and of 64 bits, where nearly every key is a false positive)
and without it, and all end with the same rows, the same rowids and the same counts, batch by
batch, also when a second connection writes into the file between two batches of the first.
"""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from twitter_crawler.stores.base import Batch, StoreError, WriteResult
from twitter_crawler.stores.sqlite import SQLiteStore

OWNER = "1001"


def account(key: str, **props: Any) -> dict[str, Any]:
    return {"type": "Account", "externalId": key, **props}


def tweet(key: str, **props: Any) -> dict[str, Any]:
    return {"type": "Tweet", "externalId": key, **props}


def ref(item: dict[str, Any]) -> dict[str, Any]:
    prop = "url" if item["type"] == "Website" else "externalId"
    return {"type": item["type"], prop: item[prop]}


def edge(source: dict[str, Any], name: str, target: dict[str, Any]) -> dict[str, Any]:
    return {"type": "Edge", "name": name, "source": ref(source), "target": ref(target)}


def authored(*tweets: dict[str, Any], by: str = OWNER) -> list[dict[str, Any]]:
    return [edge(t, "author", account(by)) for t in tweets]


def counts(result: WriteResult) -> tuple[dict[str, int], ...]:
    # dicts, not Counters: the order of the names is compared too.
    return tuple(
        dict(getattr(result, name))
        for name in ("created", "updated", "unchanged", "edges_created", "edges_removed")
    )


def dump(path: Path) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    with sqlite3.connect(path) as conn:
        items = conn.execute(
            "SELECT rowid, id, type, key, properties FROM items ORDER BY rowid"
        ).fetchall()
        edges = conn.execute(
            "SELECT source, name, target FROM edges ORDER BY source, name, target"
        ).fetchall()
    return items, edges


#: A step of a scenario: ("a", batch) is written by the first store, ("b", batch) by a second
#: store (another connection) on the same file; ("a", None) closes the first store and opens
#: it again.
Step = tuple[str, Batch | None]


def run(path: Path, steps: list[Step], filter_bits: int) -> tuple[list[Any], Any, SQLiteStore]:
    stores = {"a": SQLiteStore(path), "b": SQLiteStore(path)}
    for store in stores.values():
        store.filter_bits = filter_bits
        if not filter_bits:  # as before either shortcut: every key looked up, every batch
            store.end_cache_size = 0
    results = []
    try:
        stores["a"].open()
        for who, batch in steps:
            store = stores[who]
            if batch is None:
                store.close()
                store.open()
                continue
            store.open()  # the second one, on its first batch
            results.append(counts(store.write(batch)))
    finally:
        for store in stores.values():
            store.close()
    return results, dump(path), stores["a"]


def same_everywhere(tmp_path: Path, steps: list[Step]) -> dict[int, SQLiteStore]:
    """Runs ``steps`` without the filter, with it and with a tiny one: asserts the same results
    and the same file, returns the first store of each run (for its counters)."""
    outcomes = {}
    stores = {}
    for bits in (0, 1 << 25, 64):
        results, data, store = run(tmp_path / f"pod-{bits}.sqlite3", steps, bits)
        outcomes[bits] = (results, data)
        stores[bits] = store
    assert outcomes[1 << 25] == outcomes[0]
    assert outcomes[64] == outcomes[0]
    return stores


def test_updates_edges_to_stored_items_and_a_second_writer_give_the_same_results(
    tmp_path: Path,
) -> None:
    t1, t2, t3 = tweet("11", message="one"), tweet("12", message="two"), tweet("13", message="3")
    bob, carol = account("2002", handle="bob"), account("3003", handle="carol")
    steps: list[Step] = [
        # The owner, two tweets (one of them twice: the second occurrence merges into the
        # first), an end that is not stored yet (carol: a minimal item).
        ("a", Batch(
            items=[account(OWNER, handle="me"), t1, t2, tweet("11", likes=3), bob],
            edges=[*authored(t1, t2), edge(t1, "mention", bob), edge(t2, "mention", carol)],
        )),
        # An update (t1's message), an unchanged item (bob), edges to stored items that are not
        # in the batch (the owner, t2, carol), an edge stored already.
        ("a", Batch(
            items=[tweet("11", message="one!"), account("2002", handle="bob"), t3],
            edges=[*authored(t3), edge(t3, "reference", t2), edge(t3, "mention", carol),
                   edge(t1, "mention", bob)],
            watermarks={OWNER: "13"},
        )),
        # A second crawl into the same file: it creates what the first then updates (dave as an
        # item, t4 as an end), and updates what the first remembered (the owner).
        ("b", Batch(
            items=[account("4004", handle="dave"), account(OWNER, handle="me2"),
                   tweet("14", message="four")],
            edges=[*authored(tweet("14"), by="4004"), edge(tweet("14"), "reference", t1)],
        )),
        ("a", Batch(
            items=[account("4004", handle="dave", location="here"), tweet("15", message="5")],
            edges=[*authored(tweet("15")), edge(tweet("15"), "reference", tweet("14")),
                   edge(tweet("15"), "mention", account("4004")),
                   edge(tweet("15"), "mention", account("5005"))],
        )),
        ("a", Batch(
            items=[tweet("16", message="6"), account("5005", handle="erin")],
            edges=[*authored(tweet("16")), edge(tweet("16"), "mention", account("5005"))],
        )),
        # The first store closed and opened again while the second writes: its new connection
        # knows nothing of what the old one saw.
        ("a", None),
        ("b", Batch(items=[tweet("17", message="7"), account("6006", handle="fay")])),
        ("a", Batch(
            items=[tweet("17", message="seven"), tweet("18")],
            edges=[*authored(tweet("18")), edge(tweet("18"), "mention", account("6006"))],
        )),
    ]
    stores = same_everywhere(tmp_path, steps)
    used = stores[1 << 25]
    # The first store built its filter at its first batch, again after the second's write, and
    # once more after it was opened again.
    assert used.filter_builds == 3
    assert used.lookups_skipped > 0
    assert used.lookups_cached > 0
    unused = stores[0]
    assert (unused.filter_builds, unused.lookups_skipped, unused.lookups_cached) == (0, 0, 0)


def test_random_batches_with_a_second_writer_give_the_same_results(tmp_path: Path) -> None:
    rng = random.Random(17)
    kinds = ["Account", "Tweet", "Photo"]

    def item() -> dict[str, Any]:
        props: dict[str, Any] = {"type": rng.choice(kinds), "externalId": str(rng.randrange(40))}
        for name in rng.sample(["a", "b", "c"], rng.randrange(3)):
            props[name] = rng.choice([1, 2, "x", True, None])
        return props

    steps: list[Step] = []
    for _ in range(30):
        items = [item() for _ in range(rng.randrange(8))]
        edges = [
            edge(item(), rng.choice(["author", "mention", "photo"]), item())
            for _ in range(rng.randrange(10))
        ]
        steps.append((rng.choice("aaab"), Batch(items=items, edges=edges)))
    same_everywhere(tmp_path, steps)


def test_a_fresh_import_looks_up_almost_nothing(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "pod.sqlite3")
    store.open()
    try:
        store.write(Batch(items=[account(OWNER, handle="me")]))
        tweets = [tweet(str(100 + i), message=f"t{i}") for i in range(200)]
        result = store.write(Batch(items=tweets, edges=authored(*tweets)))
        assert result.created["Tweet"] == 200
        assert result.edges_created["author"] == 200
        # 200 new tweets, none looked up (64 in 2**25 would be astronomically unlucky), and the
        # owner, stored: looked up once (its rowid only), then remembered.
        assert store.lookups_skipped >= 200 - 64
        more = [tweet(str(1000 + i)) for i in range(10)]
        store.write(Batch(items=more, edges=authored(*more)))
        assert store.lookups_cached == 1
        assert store.filter_builds == 1
    finally:
        store.close()


def test_a_batch_rolled_back_leaves_no_remembered_rowid(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The second batch creates carol as an edge's end, then fails after its edges (a disk
    # error, say) and is rolled back: carol's rowid, remembered during the batch, is forgotten,
    # and the next batch creates her again.
    def steps(store: SQLiteStore) -> list[Any]:
        out = [counts(store.write(Batch(items=[account(OWNER)], edges=[])))]
        fail = {"on": True}
        real = store._write_watermarks

        def broken(*args: Any) -> None:
            if fail["on"]:
                raise sqlite3.OperationalError("disk I/O error")
            real(*args)

        monkeypatch.setattr(store, "_write_watermarks", broken)
        batch = Batch(items=[tweet("11")],
                      edges=[*authored(tweet("11")), edge(tweet("11"), "mention", account("3"))],
                      watermarks={OWNER: "11"})
        with pytest.raises(StoreError):
            store.write(batch)
        fail["on"] = False
        out.append(counts(store.write(Batch(
            items=[tweet("12")], edges=[edge(tweet("12"), "mention", account("3"))]))))
        out.append(counts(store.write(batch)))
        return out

    outcomes = []
    for bits in (0, 1 << 25):
        path = tmp_path / f"pod-{bits}.sqlite3"
        store = SQLiteStore(path)
        store.filter_bits = bits
        store.end_cache_size = bits and 4096
        store.open()
        try:
            outcomes.append((steps(store), dump(path)))
        finally:
            store.close()
    assert outcomes[0] == outcomes[1]
    items, edges = outcomes[0][1]
    assert [key for _, _, _, key, _ in items] == [OWNER, "12", "3", "11"]
    assert len(edges) == 3


def test_a_store_too_large_for_the_filter_has_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from twitter_crawler.stores import sqlite

    monkeypatch.setattr(sqlite, "_FILTER_MAX_KEYS", 5)
    path = tmp_path / "pod.sqlite3"
    store = SQLiteStore(path)
    store.open()
    try:
        # Built on the first batch (an empty store), dropped once it holds more than 5 keys.
        store.write(Batch(items=[tweet(str(i)) for i in range(4)]))
        assert (store.filter_builds, store.lookups_skipped) == (1, 4)
        store.write(Batch(items=[tweet(str(i)) for i in range(4, 8)]))
        assert store.lookups_skipped == 8
        result = store.write(Batch(items=[tweet(str(i)) for i in range(6, 10)]))
        assert (dict(result.created), dict(result.unchanged)) == ({"Tweet": 2}, {"Tweet": 2})
        assert (store.filter_builds, store.lookups_skipped) == (1, 8)
    finally:
        store.close()
    # Opened again: 10 items, too many to build it.
    store = SQLiteStore(path)
    store.open()
    try:
        store.write(Batch(items=[tweet("10")]))
        assert (store.filter_builds, store.lookups_skipped) == (0, 0)
    finally:
        store.close()
    assert len(dump(path)[0]) == 11


def test_the_writers_pod_ids_are_pod_id() -> None:
    from twitter_crawler.stores.ids import pod_id
    from twitter_crawler.stores.sqlite import _pod_ids

    keys = [
        (kind, key)
        for kind in ("Account", "Tweet", "Photo", "Video", "Website", "File", "Thing", "X-Y!z")
        for key in ("0", "7", "1234567890123456789", "3_1234567890", "1" * 26, "1" * 27,
                    "1" * 40, "123\n", "١٢٣", "12a", "-1", "https://example.org/", "x12")
    ]
    assert _pod_ids(keys) == [pod_id(kind, key) for kind, key in keys]
