"""The store contract (stores/base.py), checked on both stores: the embedded SQLite store and the
Pod store against a real test Pod process."""

from __future__ import annotations

import sqlite3
import time
from collections import Counter
from typing import Any

import pytest

from tests.stores.conftest import Harness, PodHarness, PostgresHarness
from twitter_crawler.items import Account, ContactsPage, Edge, Photo, Tweet, Website, ref, to_dict
from twitter_crawler.stores.base import Batch, Store, StoreConfigError, StoreError, open_store


def edge(name: str, source: tuple[str, str], target: tuple[str, str]) -> dict[str, Any]:
    return to_dict(Edge(name=name, source=ref(*source), target=ref(*target)))


def account(user_id: str, **props: Any) -> dict[str, Any]:
    return to_dict(Account(externalId=user_id, **props))


def tweet(tweet_id: str, **props: Any) -> dict[str, Any]:
    return to_dict(Tweet(externalId=tweet_id, **props))


def page(
    walk: str,
    targets: list[str],
    *,
    complete: bool = False,
    name: str = "following",
    source: str = "1",
) -> dict[str, Any]:
    return to_dict(
        ContactsPage(source=source, name=name, walkId=walk, targets=targets, complete=complete)
    )


def following(*targets: str) -> list[dict[str, Any]]:
    return [edge("following", ("Account", "1"), ("Account", t)) for t in targets]


ME = account("1", handle="me", displayName="Me", isMe=True)


# -- upserts --------------------------------------------------------------------------------------


def test_new_properties_are_added_changed_replaced_missing_kept(
    harness: Harness, store: Store
) -> None:
    store.write(Batch(items=[account("7", handle="bob", displayName="Bob", followersCount=3)]))
    result = store.write(
        Batch(items=[account("7", displayName="Robert", followersCount=4, verified=True)])
    )
    items, _ = harness.snapshot()
    assert items[("Account", "7")] == {
        "externalId": "7",
        "service": "twitter",
        "handle": "bob",
        "displayName": "Robert",
        "followersCount": 4,
        "verified": True,
    }
    assert result.updated == Counter({"Account": 1})


def test_each_item_is_stored_once_per_key(harness: Harness, store: Store) -> None:
    site = to_dict(Website(url="https://example.org/a?b=1", displayUrl="example.org/a"))
    batch = Batch(
        items=[
            tweet("100", message="hi"),
            tweet("100", message="hi"),
            site,
            to_dict(Photo(externalId="55", width=10)),
            site,
        ]
    )
    store.write(batch)
    store.write(batch)
    items, _ = harness.snapshot()
    assert sorted(items) == [
        ("Photo", "55"),
        ("Tweet", "100"),
        ("Website", "https://example.org/a?b=1"),
    ]


def test_a_minimal_account_then_the_full_profile_in_one_batch(
    harness: Harness, store: Store
) -> None:
    result = store.write(
        Batch(
            items=[
                account("9", handle="carol", displayName="Carol"),
                account("9", handle="carol", displayName="Carol", description="bio", tweetCount=12),
            ]
        )
    )
    assert result.created == Counter({"Account": 1})
    assert result.updated == Counter({"Account": 1})
    items, _ = harness.snapshot()
    assert items[("Account", "9")]["description"] == "bio"


def test_write_result_counts(store: Store) -> None:
    first = store.write(
        Batch(
            items=[
                ME,
                account("2", handle="two"),
                tweet("100", message="a"),
                tweet("101", message="b"),
            ],
            edges=[
                *following("2"),
                edge("author", ("Tweet", "100"), ("Account", "2")),
                edge("author", ("Tweet", "101"), ("Account", "2")),
            ],
        )
    )
    assert first.created == Counter({"Account": 2, "Tweet": 2})
    assert first.updated == Counter()
    assert first.unchanged == Counter()
    assert first.edges_created == Counter({"author": 2, "following": 1})
    assert first.edges_removed == Counter()

    second = store.write(
        Batch(
            items=[
                ME,
                account("2", handle="two", followersCount=5),
                tweet("100", message="a"),
                tweet("102", message="c"),
            ],
            edges=[*following("2", "3"), edge("author", ("Tweet", "102"), ("Account", "2"))],
        )
    )
    # Account 3 only appears as an edge's target: it becomes a minimal item.
    assert second.created == Counter({"Tweet": 1, "Account": 1})
    assert second.updated == Counter({"Account": 1})
    assert second.unchanged == Counter({"Account": 1, "Tweet": 1})
    assert second.edges_created == Counter({"author": 1, "following": 1})


def test_an_edge_to_an_unknown_item_creates_a_minimal_item(harness: Harness, store: Store) -> None:
    store.write(
        Batch(
            items=[tweet("100")],
            edges=[
                edge("link", ("Tweet", "100"), ("Website", "https://example.org/")),
                edge("mention", ("Tweet", "100"), ("Account", "77")),
            ],
        )
    )
    items, edges = harness.snapshot()
    assert items[("Website", "https://example.org/")] == {"url": "https://example.org/"}
    assert items[("Account", "77")] == {"externalId": "77"}
    assert len(edges) == 2


def test_dates_and_all_item_types_round_trip(harness: Harness, store: Store) -> None:
    store.write(
        Batch(
            items=[
                tweet(
                    "100",
                    message="a &amp; b",
                    postDate="2016-07-16T04:17:02Z",
                    retweetCount=0,
                    likeCount=2,
                    tweetType="reply",
                    inReplyToId="99",
                    lang="en",
                    source="App",
                ),
                account("2", dateJoined="2009-01-02T03:04:05Z", protected=False),
            ]
        )
    )
    store.write(Batch(items=[tweet("100", postDate="2016-07-16T04:17:02Z")]))
    items, _ = harness.snapshot()
    post_date = items[("Tweet", "100")]["postDate"]
    # The Pod keeps DateTime as milliseconds since the epoch; the embedded store the ISO string.
    assert post_date in ("2016-07-16T04:17:02Z", 1468642622000)
    assert items[("Tweet", "100")]["retweetCount"] == 0
    assert items[("Account", "2")]["protected"] is False


# -- edges ----------------------------------------------------------------------------------------


def test_each_edge_is_stored_once(harness: Harness, store: Store) -> None:
    batch = Batch(
        items=[ME, account("2"), account("3")],
        edges=[*following("2", "3", "2"), edge("follower", ("Account", "1"), ("Account", "2"))],
    )
    first = store.write(batch)
    second = store.write(batch)
    assert first.edges_created == Counter({"following": 2, "follower": 1})
    assert second.edges_created == Counter()
    store.close()
    reopened = harness.store()
    reopened.open()
    try:
        assert reopened.write(batch).edges_created == Counter()
    finally:
        reopened.close()
    _, edges = harness.snapshot()
    assert edges == sorted(
        [
            (("Account", "1"), "follower", ("Account", "2")),
            (("Account", "1"), "following", ("Account", "2")),
            (("Account", "1"), "following", ("Account", "3")),
        ]
    )


# -- watermarks -----------------------------------------------------------------------------------


def test_watermarks_round_trip_and_survive_reopening(harness: Harness, store: Store) -> None:
    assert store.watermarks() == {}
    store.write(Batch(watermarks={"1": "1000", "2": "2000"}))
    store.write(Batch(watermarks={"1": "1500"}))
    assert store.watermarks() == {"1": "1500", "2": "2000"}
    store.close()
    reopened = harness.store()
    reopened.open()
    try:
        assert reopened.watermarks() == {"1": "1500", "2": "2000"}
        # A watermark never moves back (a replayed batch).
        reopened.write(Batch(watermarks={"1": "999", "2": "10000"}))
        assert reopened.watermarks() == {"1": "1500", "2": "10000"}
    finally:
        reopened.close()


# -- contact walks --------------------------------------------------------------------------------


def test_a_complete_walk_removes_the_edges_it_did_not_list(harness: Harness, store: Store) -> None:
    store.write(
        Batch(
            items=[ME],
            edges=[
                *following("2", "3", "4", "5"),
                edge("follower", ("Account", "1"), ("Account", "5")),
            ],
        )
    )
    assert (
        store.write(
            Batch(edges=following("2"), contact_pages=[page("w1", ["2", "3"])])
        ).edges_removed
        == Counter()
    )
    _, edges = harness.snapshot()
    assert len(edges) == 5  # an incomplete walk removes nothing

    result = store.write(
        Batch(edges=following("6"), contact_pages=[page("w1", ["6", "4"], complete=True)])
    )
    assert result.edges_removed == Counter({"following": 1})  # 5 was not listed
    assert result.edges_created == Counter({"following": 1})
    _, edges = harness.snapshot()
    assert sorted(t for _, name, (_, t) in edges if name == "following") == ["2", "3", "4", "6"]
    assert [t for _, name, (_, t) in edges if name == "follower"] == ["5"]  # another list


def test_a_walk_is_forgotten_once_complete(harness: Harness, store: Store) -> None:
    store.write(Batch(items=[ME], edges=following("2", "3")))
    store.write(Batch(contact_pages=[page("w1", ["2", "3"])]))
    store.write(Batch(contact_pages=[page("w1", [], complete=True)]))
    _, edges = harness.snapshot()
    assert len(edges) == 2
    # A new walk does not inherit the old walk's targets.
    result = store.write(Batch(contact_pages=[page("w2", ["3"], complete=True)]))
    assert result.edges_removed == Counter({"following": 1})
    _, edges = harness.snapshot()
    assert edges == [(("Account", "1"), "following", ("Account", "3"))]


def test_an_unfinished_walk_survives_reopening(harness: Harness, store: Store) -> None:
    store.write(Batch(items=[ME], edges=following("2", "3", "4")))
    store.write(Batch(contact_pages=[page("w1", ["2"]), page("w1", ["2"])]))
    store.close()
    reopened = harness.store()
    reopened.open()
    try:
        result = reopened.write(Batch(contact_pages=[page("w1", ["3"], complete=True)]))
    finally:
        reopened.close()
    assert result.edges_removed == Counter({"following": 1})
    _, edges = harness.snapshot()
    assert sorted(t for _, _, (_, t) in edges) == ["2", "3"]


def test_a_complete_walk_records_its_list_as_read_in_full(harness: Harness, store: Store) -> None:
    store.write(Batch(items=[ME], edges=[*following("2", "3"),
                                         edge("follower", ("Account", "1"), ("Account", "4"))]))
    state = store.contacts_state()
    assert state.full_reads == {}  # edges alone are no full read
    assert state.targets == {("1", "following"): {"2", "3"}, ("1", "follower"): {"4"}}
    store.write(Batch(contact_pages=[page("w1", ["2", "3"])]))
    assert store.contacts_state().full_reads == {}  # an unfinished walk is not either

    before = time.time()
    store.write(Batch(contact_pages=[page("w1", ["3"], complete=True)]))
    state = store.contacts_state()
    assert list(state.full_reads) == [("1", "following")]
    assert before - 1 <= state.full_reads[("1", "following")] <= time.time() + 1
    assert state.targets == {("1", "following"): {"2", "3"}, ("1", "follower"): {"4"}}

    # Kept across runs, and moved on by the next full read.
    store.close()
    reopened = harness.store()
    reopened.open()
    try:
        first = reopened.contacts_state().full_reads[("1", "following")]
        time.sleep(0.01)
        reopened.write(Batch(contact_pages=[page("w2", ["3"], complete=True)]))
        state = reopened.contacts_state()
    finally:
        reopened.close()
    assert state.full_reads[("1", "following")] > first
    assert state.targets == {("1", "following"): {"3"}, ("1", "follower"): {"4"}}


def test_a_complete_walk_of_a_source_not_stored_changes_nothing(store: Store) -> None:
    result = store.write(Batch(contact_pages=[page("w1", ["2"], complete=True, source="404")]))
    assert result.edges_removed == Counter()


# -- atomicity and errors -------------------------------------------------------------------------


def test_a_failing_batch_leaves_nothing(harness: Harness, store: Store) -> None:
    store.write(Batch(items=[ME]))
    before = harness.snapshot()
    bad = Batch(
        items=[account("2", handle="two"), account("1", handle="changed"), {"type": "Tweet"}],
        edges=following("2"),
        watermarks={"1": "5"},
        contact_pages=[page("w1", [], complete=True)],
    )
    with pytest.raises(StoreError, match="externalId"):
        store.write(bad)
    assert harness.snapshot() == before
    assert store.watermarks() == {}
    bad_edge = Batch(
        items=[account("2")],
        edges=[
            {
                "type": "Edge",
                "name": "following",
                "source": {"type": "Account"},
                "target": ref("Account", "2"),
            }
        ],
    )
    with pytest.raises(StoreError):
        store.write(bad_edge)
    assert harness.snapshot() == before


def test_an_empty_batch_changes_nothing(harness: Harness, store: Store) -> None:
    result = store.write(Batch())
    assert result.created == Counter()
    assert harness.snapshot() == ({}, [])


def test_describe_names_the_place_without_keys(harness: Harness, store: Store) -> None:
    text = store.describe()
    if isinstance(harness, PodHarness):
        assert harness.server.url in text
        assert harness.owner_key not in text
        assert harness.database_key not in text
    elif isinstance(harness, PostgresHarness):
        assert f"127.0.0.1:{harness.server.port}/" in text
        assert harness.server.password not in text
        assert "s3cret" not in text
    else:
        assert str(harness.path.name) in text


# -- the embedded store's file --------------------------------------------------------------------


def test_sqlite_store_creates_its_directory_and_marks_the_file(tmp_path: Any) -> None:
    path = tmp_path / "a" / "b" / "pod.sqlite3"
    store = open_store(f"sqlite:///{path}")
    store.open()
    store.write(Batch(items=[ME]))
    store.close()
    conn = sqlite3.connect(path)
    try:
        from twitter_crawler.stores.sqlite import APPLICATION_ID, SCHEMA_VERSION

        assert conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        meta = dict(conn.execute("SELECT name, value FROM meta"))
        assert meta["application"] == "twitter_crawler"
        assert meta["schema_version"] == str(SCHEMA_VERSION)
        assert conn.execute("SELECT id FROM items").fetchone()[0] == "tw-acc-1"
    finally:
        conn.close()


def test_a_file_of_an_earlier_release_gains_the_contact_reads(tmp_path: Any) -> None:
    from twitter_crawler.stores.sqlite import SQLiteStore

    path = tmp_path / "pod.sqlite3"
    store = SQLiteStore(path)
    store.open()
    store.write(Batch(items=[ME], edges=following("2")))
    store.close()
    conn = sqlite3.connect(path)
    try:
        with conn:
            conn.execute("DROP TABLE contact_reads")  # as the release before issue 16 wrote it
    finally:
        conn.close()
    readonly = SQLiteStore(path, readonly=True)  # scrapy store never writes: nothing to read
    readonly.open()
    try:
        assert readonly.contacts_state().full_reads == {}
    finally:
        readonly.close()
    store = SQLiteStore(path)
    store.open()
    try:
        store.write(Batch(contact_pages=[page("w", ["2"], complete=True)]))
        assert list(store.contacts_state().full_reads) == [("1", "following")]
    finally:
        store.close()


def _config_error(url: str) -> str:
    store = open_store(url)
    with pytest.raises(StoreConfigError) as info:
        store.open()
    return str(info.value)


def test_a_file_that_is_not_sqlite_is_refused(tmp_path: Any) -> None:
    path = tmp_path / "notes.txt"
    path.write_bytes(b"these are my notes, not a database\n" * 100)
    assert "not a SQLite database" in _config_error(f"sqlite:///{path}")
    assert path.read_bytes().startswith(b"these are my notes")


def test_a_corrupt_store_is_refused(tmp_path: Any) -> None:
    path = tmp_path / "pod.sqlite3"
    store = open_store(f"sqlite:///{path}")
    store.open()
    store.write(Batch(items=[account(str(i), description="x" * 200) for i in range(2000)]))
    store.close()
    data = bytearray(path.read_bytes())
    page_size = int.from_bytes(data[16:18], "big")
    for offset in range(page_size * 3, len(data), page_size * 2):  # scribble over many pages
        data[offset + 8 : offset + 64] = b"\xff" * 56
    path.write_bytes(bytes(data))
    assert "corrupt" in _config_error(f"sqlite:///{path}")


def test_a_truncated_store_is_refused(tmp_path: Any) -> None:
    path = tmp_path / "pod.sqlite3"
    store = open_store(f"sqlite:///{path}")
    store.open()
    store.write(Batch(items=[account(str(i), description="x" * 200) for i in range(2000)]))
    store.close()
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])
    message = _config_error(f"sqlite:///{path}")
    assert "corrupt" in message


def test_a_foreign_sqlite_database_is_refused(tmp_path: Any) -> None:
    path = tmp_path / "other.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)")
    conn.commit()
    conn.close()
    message = _config_error(f"sqlite:///{path}")
    assert "another application" in message
    assert "invoices" in message
    conn = sqlite3.connect(path)  # untouched
    assert conn.execute("SELECT name FROM sqlite_master").fetchall() == [("invoices",)]
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal"
    conn.close()


def test_a_database_of_another_application_id_is_refused(tmp_path: Any) -> None:
    path = tmp_path / "other.db"
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA application_id = 1196444237")  # GPKG
    conn.commit()
    conn.close()
    assert "another application" in _config_error(f"sqlite:///{path}")


def test_a_store_of_a_newer_release_is_refused(tmp_path: Any) -> None:
    path = tmp_path / "pod.sqlite3"
    store = open_store(f"sqlite:///{path}")
    store.open()
    store.close()
    conn = sqlite3.connect(path)
    conn.execute("UPDATE meta SET value = '99' WHERE name = 'schema_version'")
    conn.execute("PRAGMA user_version = 99")
    conn.commit()
    conn.close()
    assert "newer twitter_crawler" in _config_error(f"sqlite:///{path}")


def test_an_empty_file_becomes_a_store(tmp_path: Any) -> None:
    path = tmp_path / "pod.sqlite3"
    path.touch()
    store = open_store(f"sqlite:///{path}")
    store.open()
    store.write(Batch(items=[ME]))
    store.close()


def test_a_directory_is_not_a_store(tmp_path: Any) -> None:
    assert "directory" in _config_error(f"sqlite:///{tmp_path}")


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:///",
        "sqlite://relative.db",
        "mysql://localhost/pod",
        "pod.sqlite3",
        "",
    ],
)
def test_a_malformed_pod_url_is_refused(url: str) -> None:
    with pytest.raises(StoreConfigError, match="POD_URL"):
        open_store(url)


@pytest.mark.parametrize("url", ["http://", "http://:3030", "https://host:port/"])
def test_a_malformed_pod_address_is_refused_at_open(url: str) -> None:
    keys = {"owner_key": "a" * 64, "database_key": "b" * 64}
    store = open_store(url, **keys)
    with pytest.raises(StoreConfigError, match="POD_URL"):
        store.open()


@pytest.mark.parametrize(
    ("owner_key", "database_key", "setting"),
    [
        ("", "b" * 64, "POD_OWNER_KEY"),
        ("a" * 64, "", "POD_DATABASE_KEY"),
        ("not hex" * 9 + "z", "b" * 64, "POD_OWNER_KEY"),
    ],
)
def test_missing_or_malformed_pod_keys_are_refused(
    owner_key: str, database_key: str, setting: str
) -> None:
    store = open_store("http://127.0.0.1:9", owner_key=owner_key, database_key=database_key)
    with pytest.raises(StoreConfigError, match=setting) as info:
        store.open()
    if owner_key:
        assert owner_key not in str(info.value)
