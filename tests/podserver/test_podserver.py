"""The test Pod: the v4 API with the Pod's semantics, as pymemri 0.1.2 sees it."""

from __future__ import annotations

import hashlib
import json
import secrets
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.podserver.support import podserver
from tests.support.servers import ROOT, ServerProcess

SCHEMA = {
    "nodes": {
        "Note": {
            "properties": {
                "externalId": "Text",
                "title": "Text",
                "stars": "Integer",
                "done": "Bool",
            }
        },
    },
    "edges": {"link": [{"source": "Note", "target": "Note"}]},
    "meta": {"name": "test", "url": "example.org", "version": "1"},
}


class Pod:
    """Raw calls for one owner."""

    def __init__(self, server: ServerProcess, owner: str = "", key: str = "") -> None:
        self.server = server
        self.owner = owner or secrets.token_hex(32)
        self.key = key or secrets.token_hex(32)

    def call(
        self, endpoint: str, payload: Any, *, version: str = "v4", key: str | None = None
    ) -> tuple[int, Any]:
        body = {"auth": {"type": "ClientAuth", "databaseKey": key or self.key}, "payload": payload}
        request = urllib.request.Request(
            f"{self.server.url}/{version}/{self.owner}/{endpoint}",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                data = response.read()
                if response.headers.get_content_type() == "application/json":
                    return response.status, json.loads(data)
                return response.status, data
        except urllib.error.HTTPError as exc:
            with exc:
                return exc.code, exc.read().decode()

    def ok(self, endpoint: str, payload: Any, **kwargs: Any) -> Any:
        status, answer = self.call(endpoint, payload, **kwargs)
        assert status == 200, answer
        return answer

    def dump(self) -> dict[str, Any]:
        return self.server.get_json(f"/_podserver/dump?owner={self.owner}")


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    with podserver() as server:
        yield server


@pytest.fixture
def pod(server: ServerProcess) -> Pod:
    pod = Pod(server)
    pod.ok("schema", SCHEMA, version="v5")
    return pod


def note(item_id: str, **props: Any) -> dict[str, Any]:
    return {"id": item_id, "type": "Note", **props}


def test_it_prints_exactly_its_address_on_stdout() -> None:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-u",
            "-m",
            "pod_testserver",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("http://127.0.0.1:") and line.endswith("\n")
        with urllib.request.urlopen(line.strip() + "/version", timeout=30) as response:
            assert json.load(response)["cargo"]
    finally:
        proc.terminate()
        out, err = proc.communicate(timeout=30)
    assert out == ""  # nothing after the address
    assert "Pod test server" in err


def test_items_have_unique_ids(pod: Pod) -> None:
    assert pod.ok("create_item", note("note-0001", title="a")) == "note-0001"
    status, message = pod.call("create_item", note("note-0001", title="b"))
    assert status == 409
    assert "already exists" in message
    assert pod.call("create_item", note("bad id!", title="b"))[0] == 400
    generated = pod.ok("create_item", {"type": "Note", "title": "c"})
    assert len(generated) == 32
    assert pod.ok("get_item", "note-0001")[0]["title"] == "a"
    assert pod.ok("get_item", "nope-0001") == []


def test_duplicate_edges_are_accepted(pod: Pod) -> None:
    pod.ok("bulk", {"createItems": [note("note-0001"), note("note-0002")]})
    edge = {"_source": "note-0001", "_target": "note-0002", "_name": "link"}
    first = pod.ok("create_edge", edge)
    second = pod.ok("create_edge", edge)
    assert first != second
    assert len(pod.dump()["edges"]) == 2
    edges = pod.ok("get_edges", {"item": "note-0001", "direction": "Outgoing", "expandItems": True})
    assert [(e["name"], e["item"]["id"]) for e in edges] == [("link", "note-0002")] * 2
    assert pod.call("create_edge", {**edge, "_target": "note-9999"})[0] == 404


def test_a_bulk_is_atomic(pod: Pod) -> None:
    pod.ok("create_item", note("note-0001", title="old"))
    status, _ = pod.call(
        "bulk",
        {
            "createItems": [note("note-0002"), note("note-0003")],
            "updateItems": [{"id": "note-0001", "title": "new"}],
            "createEdges": [
                {"_source": "note-0002", "_target": "note-0003", "_name": "link"},
                {"_source": "note-0002", "_target": "missing-1", "_name": "link"},
            ],
        },
    )
    assert status == 404
    status, _ = pod.call("bulk", {"createItems": [note("note-0004"), note("note-0001")]})
    assert status == 409
    dump = pod.dump()
    assert [item["id"] for item in dump["items"]] == ["note-0001"]
    assert dump["items"][0]["title"] == "old"
    assert dump["edges"] == []


def test_bulk_answers_ids_and_searches(pod: Pod) -> None:
    answer = pod.ok(
        "bulk",
        {
            "createItems": [note("note-0001", title="x"), note("note-0002", title="y")],
            "createEdges": [{"_source": "note-0001", "_target": "note-0002", "_name": "link"}],
            "search": [
                {"id": "note-0001"},
                {"id": "note-0002", "[[edges]]": {}},
                {"id": "nope-00"},
            ],
        },
    )
    assert answer["createItems"] == ["note-0001", "note-0002"]
    assert len(answer["createEdges"]) == 1
    assert [len(hits) for hits in answer["search"]] == [1, 1, 0]


def test_search(pod: Pod) -> None:
    pod.ok(
        "bulk",
        {
            "createItems": [
                note(f"note-000{i}", title="t" if i % 2 else "u", stars=i, done=i > 2)
                for i in range(1, 6)
            ]
            + [{"id": "other-01", "type": "Other"}],
            "createEdges": [{"_source": "note-0001", "_target": "note-0002", "_name": "link"}],
        },
    )
    titles = pod.ok("search", {"type": "Note", "title": "t"})
    assert [n["id"] for n in titles] == ["note-0001", "note-0003", "note-0005"]
    assert [n["id"] for n in pod.ok("search", {"type": "Note", "done": True, "stars": 4})] == [
        "note-0004"
    ]
    assert len(pod.ok("search", {"type": "Note", "_limit": 2})) == 2
    newest = pod.ok("search", {"type": "Note", "_limit": 1, "_sortOrder": "Desc"})
    assert newest[0]["id"] == "note-0005"
    (with_edges,) = pod.ok("search", {"id": "note-0001", "[[edges]]": {}})
    (edge,) = with_edges["[[edges]]"]
    assert edge["_edge"] == "link"
    assert edge["_item"]["id"] == "note-0002"
    assert edge["type"] == "Edge"
    assert [n["id"] for n in pod.ok("search", {"ids": ["note-0002", "other-01"]})] == [
        "note-0002",
        "other-01",
    ]
    status, message = pod.call("search", {"type": "Note", "colour": "red"})
    assert status == 400
    assert "not defined in Schema" in message


def test_update_delete_and_null(pod: Pod) -> None:
    pod.ok("create_item", note("note-0001", title="a", stars=3))
    pod.ok("update_item", {"id": "note-0001", "title": None, "stars": 4, "type": "Ignored"})
    (item,) = pod.ok("get_item", "note-0001")
    assert "title" not in item
    assert item["stars"] == 4
    assert item["type"] == "Note"
    assert pod.call("update_item", {"id": "nope-0001", "stars": 1})[0] == 404
    pod.ok("delete_item", "note-0001")
    assert pod.ok("get_item", "note-0001")[0]["deleted"] is True
    assert pod.ok("search", {"type": "Note", "deleted": False}) == []


def test_deleting_an_edge_item_hides_the_edge(pod: Pod) -> None:
    pod.ok("bulk", {"createItems": [note("note-0001"), note("note-0002")]})
    edge_id = pod.ok(
        "create_edge", {"_source": "note-0001", "_target": "note-0002", "_name": "link"}
    )
    pod.ok("bulk", {"deleteItems": [edge_id]})
    assert (
        pod.ok("get_edges", {"item": "note-0001", "direction": "Outgoing", "expandItems": False})
        == []
    )


def test_the_schema_is_enforced(server: ServerProcess) -> None:
    pod = Pod(server)
    status, message = pod.call("create_item", note("note-0001", title="a"))
    assert status == 400
    assert "title not defined in Schema" in message
    pod.ok("schema", SCHEMA, version="v5")
    status, message = pod.call("create_item", note("note-0001", stars="many"))
    assert status == 400
    assert "Integer" in message
    conflicting = {"nodes": {"Other": {"properties": {"stars": "Text"}}}}
    assert pod.call("schema", conflicting, version="v5")[0] == 400
    pod.ok("create_item", note("note-0001", title="a", stars=1))


def test_the_database_key_is_checked_per_owner(server: ServerProcess) -> None:
    pod = Pod(server)
    pod.ok("schema", SCHEMA, version="v5")
    status, _ = pod.call("search", {"type": "Note"}, key=secrets.token_hex(32))
    assert status == 401
    assert pod.call("search", {"type": "Note"}, key="short")[0] == 401
    body = json.dumps({"payload": {}}).encode()
    request = urllib.request.Request(
        f"{server.url}/v4/{pod.owner}/search", data=body, method="POST"
    )
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(request, timeout=30)
    info.value.close()
    assert info.value.code == 400
    # Another owner has its own database.
    other = Pod(server)
    other.ok("schema", SCHEMA, version="v5")
    pod.ok("create_item", note("note-0001"))
    assert other.ok("get_item", "note-0001") == []
    assert server.post_json("/v4/account", {"ownerKey": pod.owner, "databaseKey": pod.key}) is None


def test_files(pod: Pod) -> None:
    data = b"\x89PNG fake image"
    sha = hashlib.sha256(data).hexdigest()
    request = urllib.request.Request(
        f"{pod.server.url}/v4/{pod.owner}/upload_file/{pod.key}/{sha}", data=data, method="POST"
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 200
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(request, timeout=30)
    info.value.close()
    assert info.value.code == 409
    assert pod.ok("get_file", {"sha256": sha}) == data


def test_unknown_endpoints_are_404(pod: Pod) -> None:
    assert pod.call("graphql", "query {}")[0] == 404
    assert pod.call("nothing", {}, version="v5")[0] == 404


def test_faults_refuse_writes_only(server: ServerProcess, pod: Pod) -> None:
    pod.ok("create_item", note("note-0001"))
    server.post_json("/_podserver/faults", {"failWrites": 1.0})
    try:
        assert pod.call("create_item", note("note-0002"))[0] == 500
        assert pod.call("bulk", {"createItems": [note("note-0003")]})[0] == 500
        assert len(pod.ok("search", {"type": "Note"})) == 1
        assert pod.ok("bulk", {"search": [{"type": "Note"}]})["search"][0][0]["id"] == "note-0001"
    finally:
        server.post_json("/_podserver/faults", {"failWrites": 0.0})
    assert [i["id"] for i in pod.dump()["items"]] == ["note-0001"]


def test_a_lost_answer_was_applied(server: ServerProcess, pod: Pod) -> None:
    server.post_json("/_podserver/faults", {"loseAnswers": 1.0})
    try:
        assert pod.call("create_item", note("note-0001"))[0] == 500
    finally:
        server.post_json("/_podserver/faults", {"loseAnswers": 0.0})
    assert pod.ok("get_item", "note-0001")[0]["id"] == "note-0001"


def test_fail_writes_option(tmp_path: Path) -> None:
    with podserver("--fail-writes", "1", "--schema", "loose") as server:
        pod = Pod(server)
        assert pod.call("create_item", note("note-0001"))[0] == 500
        assert pod.ok("search", {"type": "Note"}) == []


def test_data_survives_a_restart(tmp_path: Path) -> None:
    data = str(tmp_path / "pod.sqlite3")
    owner, key = secrets.token_hex(32), secrets.token_hex(32)
    with podserver("--data", data) as server:
        pod = Pod(server, owner, key)
        pod.ok("schema", SCHEMA, version="v5")
        pod.ok(
            "bulk",
            {
                "createItems": [note("note-0001", title="kept"), note("note-0002")],
                "createEdges": [{"_source": "note-0001", "_target": "note-0002", "_name": "link"}],
            },
        )
    with podserver("--data", data) as server:
        pod = Pod(server, owner, key)
        (item,) = pod.ok("search", {"type": "Note", "title": "kept"})  # the schema is kept too
        assert item["id"] == "note-0001"
        assert len(pod.dump()["edges"]) == 1
        assert Pod(server, owner).call("get_item", "note-0001")[0] == 401


def test_pymemri_round_trip(server: ServerProcess) -> None:
    from pymemri.data.schema import Item, SchemaMeta
    from pymemri.pod.client import PodClient

    import twitter_crawler.stores.pod  # noqa: F401 (imports pymemri without its logging setup)

    class Book(Item):
        title: str | None = None
        pages: int | None = None
        sequel: list[Book] = []  # noqa: RUF012 (a pydantic field)

    Book.update_forward_refs(Book=Book)
    client = PodClient(
        url=server.url, owner_key=secrets.token_hex(32), database_key=secrets.token_hex(32)
    )
    client.add_to_schema(SchemaMeta("books", "example.org", "1"), Book)
    first, second = Book(title="One", pages=100), Book(title="Two")
    assert client.bulk_action(
        create_items=[first, second], create_edges=[first.add_edge("sequel", second)]
    )
    (found,) = client.search_typed(Book, {"title": "One"})
    assert found.pages == 100
    assert [b.title for b in found.sequel] == ["Two"]
    found.pages = 120
    assert client.update_item(found)
    assert client.get(first.id).pages == 120
    assert client.api.pod_version["cargo"]
