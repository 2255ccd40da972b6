"""What only the Pod store does: Pod ids, schema, faults of the Pod, keys kept out of sight."""

from __future__ import annotations

import dataclasses
import logging
import re
import socket
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.podserver.support import podserver, stop
from tests.stores.conftest import PodHarness
from tests.stores.test_store_contract import ME, account, edge, following, page, tweet
from tests.support.servers import ROOT, ServerProcess
from twitter_crawler import items as crawl_items
from twitter_crawler.stores.base import Batch, StoreError
from twitter_crawler.stores.ids import POD_ID_RE, pod_id
from twitter_crawler.stores.pod import PodAPIError, PodClient, PodStore
from twitter_crawler.stores.podschema import DATA_TYPES, pod_properties


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def own_server() -> Iterator[ServerProcess]:
    """A Pod of the test's own, whose faults it can switch on."""
    with podserver() as server:
        yield server


@pytest.fixture
def pod(pod_server: ServerProcess) -> PodHarness:
    return PodHarness(pod_server)


def set_faults(server: ServerProcess, **shares: float) -> None:
    server.post_json("/_podserver/faults", shares)


BATCH = Batch(
    items=[
        ME,
        account("2", handle="two"),
        tweet("100", message="hello"),
        tweet("101", message="again"),
    ],
    edges=[
        *following("2"),
        edge("author", ("Tweet", "100"), ("Account", "2")),
        edge("author", ("Tweet", "101"), ("Account", "2")),
        edge("reference", ("Tweet", "101"), ("Tweet", "100")),
    ],
    watermarks={"2": "101"},
)
EXPECTED_EDGES = 4


# -- ids and types --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "key", "expected"),
    [
        ("Account", "12", "tw-acc-12"),
        ("Tweet", "1550000000000000000", "tw-tweet-1550000000000000000"),
        ("Photo", "3_1550000000000000000", "tw-photo-3_1550000000000000000"),
        ("Video", "7", "tw-video-7"),
    ],
)
def test_pod_ids_are_derived_from_the_key(kind: str, key: str, expected: str) -> None:
    assert pod_id(kind, key) == expected


@pytest.mark.parametrize(
    ("kind", "key"),
    [
        ("Website", "https://example.org/a?b=c"),
        ("Account", "x" * 100),
        ("Tweet", "12-34"),
        ("Photo", "9" * 40),
        ("SomeFutureType", "1"),
    ],
)
def test_pod_ids_are_valid_and_distinct(kind: str, key: str) -> None:
    item_id = pod_id(kind, key)
    assert POD_ID_RE.match(item_id), item_id
    assert item_id != pod_id(kind, key + "1")
    assert item_id != pod_id("Account" if kind != "Account" else "Tweet", key)


@pytest.mark.parametrize("kind", ["Account", "Tweet", "Photo", "Video", "Website"])
def test_pod_types_have_every_property_of_the_items(kind: str) -> None:
    fields = {f.name for f in dataclasses.fields(getattr(crawl_items, kind))} - {"type"}
    assert fields <= set(DATA_TYPES[kind].properties)


def test_items_get_deterministic_ids_and_one_bulk_per_batch(pod: PodHarness) -> None:
    store = pod.store()
    store.open()
    before = pod.server.get_json("/_podserver/stats").get("bulk/200", 0)
    store.write(BATCH)
    after = pod.server.get_json("/_podserver/stats").get("bulk/200", 0)
    store.close()
    assert after - before == 2  # one look-up, one write
    ids = {item["id"] for item in pod.dump()["items"]}
    assert {"tw-acc-1", "tw-acc-2", "tw-tweet-100", "tw-tweet-101", "tw-wm-2"} <= ids


def test_the_schema_is_declared_and_types_are_registered(pod: PodHarness) -> None:
    store = pod.store()
    store.open()
    store.write(BATCH)
    client = store._client
    assert {"Account", "Tweet", "TwitterTimelineWatermark"} <= set(client.registered_classes)
    tweets = client.search_typed(DATA_TYPES["Tweet"], {"externalId": "101"})
    store.close()
    assert [t.message for t in tweets] == ["again"]
    assert [a.handle for a in tweets[0].author] == ["two"]
    nodes = pod.dump()["schemas"][0]["nodes"]
    assert nodes["Tweet"]["properties"]["postDate"] == "DateTime"
    assert nodes["Account"]["properties"]["followersCount"] == "Integer"


def test_a_pod_without_the_schema_api_gets_property_items(
    pod: PodHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_v5(self: Any, *args: Any) -> None:
        raise PodAPIError(404, "Endpoint not found")

    monkeypatch.setattr(PodClient, "add_to_schema", no_v5)
    for _ in range(2):  # the second time, nothing is declared twice
        store = pod.store()
        store.open()
        store.write(BATCH)
        store.close()
    declared = [i for i in pod.dump()["items"] if i["type"] == "ItemPropertySchema"]
    names = Counter((i["itemType"], i["propertyName"]) for i in declared)
    assert names[("Tweet", "message")] == 1
    assert max(names.values()) == 1


def test_invalid_property_values_are_dropped_not_fatal(
    pod: PodHarness, caplog: pytest.LogCaptureFixture
) -> None:
    store = pod.store()
    store.open()
    with caplog.at_level(logging.WARNING):
        store.write(Batch(items=[tweet("100", message="ok", postDate="not a date")]))
    store.close()
    items, _ = pod.snapshot()
    assert items[("Tweet", "100")]["message"] == "ok"
    assert "postDate" not in items[("Tweet", "100")]
    assert "dropped property postDate" in caplog.text


# -- faults ---------------------------------------------------------------------------------------


def test_an_unreachable_pod_is_a_store_error_without_keys() -> None:
    owner, database = "a1" * 32, "b2" * 32
    store = PodStore(f"http://127.0.0.1:{free_port()}", owner_key=owner, database_key=database)
    with pytest.raises(StoreError, match="cannot reach the Pod") as info:
        store.open()
    assert info.value.__cause__ is None and info.value.__suppress_context__
    assert owner not in str(info.value) and database not in str(info.value)


def test_a_refusing_pod_is_a_store_error_and_a_retry_stores_it_once(
    own_server: ServerProcess,
) -> None:
    pod = PodHarness(own_server)
    store = pod.store()
    store.open()
    store.write(Batch(items=[ME], edges=[]))
    set_faults(own_server, failWrites=1.0)
    with pytest.raises(StoreError, match="HTTP 500") as info:
        store.write(BATCH)
    assert pod.owner_key not in str(info.value)
    items, edges = pod.snapshot()
    assert list(items) == [("Account", "1")] and edges == []
    set_faults(own_server, failWrites=0.0)
    result = store.write(BATCH)
    store.close()
    assert result.created == Counter({"Account": 1, "Tweet": 2})
    items, edges = pod.snapshot()
    assert len(items) == 4
    assert len(edges) == EXPECTED_EDGES


def test_a_lost_answer_then_a_retry_creates_nothing_twice(own_server: ServerProcess) -> None:
    pod = PodHarness(own_server)
    store = pod.store()
    store.open()
    store.write(Batch(items=[ME, account("2")], edges=following("2")))
    set_faults(own_server, loseAnswers=1.0)
    with pytest.raises(StoreError):
        store.write(BATCH)  # applied by the Pod, but the store cannot know
    set_faults(own_server, loseAnswers=0.0)
    result = store.write(BATCH)
    assert result.created == Counter()
    assert result.edges_created == Counter()
    store.close()
    items, edges = pod.snapshot()
    assert len(items) == 4
    assert len(edges) == len(set(edges)) == EXPECTED_EDGES
    assert store.describe().endswith(own_server.url.removeprefix("http://"))


def test_a_pod_killed_and_restarted_mid_import(tmp_path: Path) -> None:
    data = str(tmp_path / "pod-data.sqlite3")
    port = str(free_port())
    first = ServerProcess("pod_testserver", "--port", port, "--data", data).start()
    pod = PodHarness(first)
    store = pod.store()
    try:
        store.open()
        store.write(
            Batch(items=[ME, account("2")], edges=following("2"), contact_pages=[page("w1", ["2"])])
        )
    finally:
        stop(first)
    with pytest.raises(StoreError, match="cannot reach the Pod"):
        store.write(BATCH)
    second = ServerProcess("pod_testserver", "--port", port, "--data", data).start()
    try:
        pod.server = second
        result = store.write(BATCH)
        assert result.created == Counter({"Tweet": 2})
        assert store.watermarks() == {"2": "101"}
        # The walk begun before the restart is still known to the Pod.
        removed = store.write(
            Batch(edges=following("3"), contact_pages=[page("w1", ["3"], complete=True)])
        )
        assert removed.edges_removed == Counter()
        store.close()
        items, edges = pod.snapshot()
        assert len(items) == 5
        assert len(edges) == len(set(edges)) == EXPECTED_EDGES + 1
    finally:
        stop(second)


def test_a_wrong_database_key_is_a_store_error(pod: PodHarness) -> None:
    store = pod.store()
    store.open()
    store.write(Batch(items=[ME]))
    store.close()
    wrong = PodStore(pod.server.url, owner_key=pod.owner_key, database_key="c" * 64)
    with pytest.raises(StoreError, match="401") as info:
        wrong.open()
        wrong.write(Batch(items=[ME]))
    assert pod.owner_key not in str(info.value) and "c" * 64 not in str(info.value)


# -- keys out of sight ----------------------------------------------------------------------------


def test_keys_never_reach_the_logs(
    own_server: ServerProcess, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    pod = PodHarness(own_server)
    # Even with urllib3 at DEBUG, whose request lines carry the owner key in their path.
    caplog.set_level(logging.DEBUG, logger="urllib3")
    with caplog.at_level(logging.DEBUG):
        store = pod.store()
        store.open()
        store.write(BATCH)
        set_faults(own_server, failWrites=1.0)
        with pytest.raises(StoreError):
            store.write(Batch(items=[tweet("102")]))
        set_faults(own_server, failWrites=0.0)
        store.close()
    out, err = capfd.readouterr()
    assert "/v4/***/bulk" in caplog.text  # the request lines were logged, masked
    for text in (caplog.text, out, err, repr(store), store.describe()):
        assert pod.owner_key not in text
        assert pod.database_key not in text


def test_importing_pymemri_leaves_logging_alone() -> None:
    code = (
        "import logging\n"
        "import twitter_crawler.stores.pod\n"
        "root = logging.getLogger()\n"
        "print(root.level, len(root.handlers))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert out.stdout.split() == [str(logging.WARNING), "0"]
    assert not re.search(r"DEBUG", out.stderr)


@pytest.mark.parametrize(
    ("kind", "props"),
    [
        (
            "Tweet",
            {
                "externalId": "1",
                "postDate": "2016-07-16T04:17:02Z",
                "retweetCount": 3,
                "message": "x",
                "lang": "en",
            },
        ),
        ("Tweet", {"externalId": "1", "postDate": "2016-07-16T04:17:02.123+00:00"}),
        (
            "Account",
            {
                "externalId": "1",
                "dateJoined": "2009-01-02T03:04:05Z",
                "verified": True,
                "followersCount": 0,
                "protected": False,
            },
        ),
        ("Account", {"externalId": 12, "followersCount": "7"}),  # pydantic converts these
        ("Video", {"externalId": "3", "durationMs": 1500, "isGif": False}),
    ],
)
def test_property_conversion_matches_pymemri(kind: str, props: dict[str, Any]) -> None:
    assert pod_properties(kind, props) == DATA_TYPES[kind](**props).property_dict()
