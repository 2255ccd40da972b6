"""The test Pod's PluginAuth: what a plugin the Pod starts authenticates with, instead of the
database key it never sees (pod_testserver/pluginauth.py)."""

from __future__ import annotations

import hashlib
import json
import secrets
import socket
from pathlib import Path
from urllib.parse import quote

from tests.plugin.support import PodOwner, auth_counts, post
from tests.podserver.support import podserver
from tests.support.servers import ServerProcess


def plugin_call(server: ServerProcess, owner_key: str, auth: dict, endpoint: str,
                payload: object) -> tuple[int, object]:
    body = {"auth": {"type": "PluginAuth", **auth}, "payload": payload}
    return post(f"{server.url}/v4/{owner_key}/{endpoint}", body)


def test_plugin_auth_opens_the_owners_database(pod_server: ServerProcess) -> None:
    owner = PodOwner(pod_server)
    run = owner.create_run({"handle": "alice"})
    auth = owner.plugin_auth(run["id"])
    assert set(auth) == {"data"}
    assert len(auth["data"]["nonce"]) == 48
    assert owner.database_key not in json.dumps(auth)

    before = auth_counts(pod_server)
    status, found = plugin_call(pod_server, owner.owner_key, auth, "get_item", run["id"])
    assert status == 200 and found[0]["config"] == run["config"]
    # The plugin reports its status: PluginRun's properties are the Pod's own schema.
    status, _ = plugin_call(pod_server, owner.owner_key, auth, "update_item",
                            {"id": run["id"], "status": "started", "progress": 0.25})
    assert status == 200
    assert (auth_counts(pod_server) - before)["auth/PluginAuth"] == 2
    got = owner.get(run["id"])
    assert (got["status"], got["progress"]) == ("started", 0.25)


def test_forged_or_foreign_plugin_auth_is_refused(pod_server: ServerProcess) -> None:
    owner, other = PodOwner(pod_server), PodOwner(pod_server)
    auth = owner.plugin_auth(owner.create_run({"handle": "alice"})["id"])
    data = auth["data"]
    flipped = data["encryptedPermissions"][:-1] + ("0" if data["encryptedPermissions"][-1] != "0" else "1")
    forged = [
        {"data": {**data, "encryptedPermissions": flipped}},
        {"data": {**data, "nonce": secrets.token_hex(24)}},
        {"data": {"nonce": data["nonce"]}},
        {"data": "not an object"},
    ]
    for bad in forged:
        status, answer = plugin_call(pod_server, owner.owner_key, bad, "search", {"type": "PluginRun"})
        assert status == 401, (bad, answer)
    # Issued for one owner, it does not open another owner's database.
    status, _ = plugin_call(pod_server, other.owner_key, auth, "search", {"type": "PluginRun"})
    assert status == 401


def test_plugin_auth_is_issued_only_to_the_owner_for_a_plugin_run(pod_server: ServerProcess) -> None:
    owner = PodOwner(pod_server)
    run = owner.create_run({"handle": "alice"})
    url = f"{pod_server.url}/_podserver/plugin_auth"
    wrong_key = {"owner": owner.owner_key, "databaseKey": secrets.token_hex(32), "pluginRunId": run["id"]}
    assert post(url, wrong_key)[0] == 401
    unknown_owner = {"owner": secrets.token_hex(32), "databaseKey": owner.database_key,
                     "pluginRunId": run["id"]}
    assert post(url, unknown_owner)[0] == 404
    no_run = {"owner": owner.owner_key, "databaseKey": owner.database_key, "pluginRunId": "nosuchrun"}
    assert post(url, no_run)[0] == 404


def test_upload_file_b_takes_the_plugin_auth(pod_server: ServerProcess) -> None:
    # pymemri's upload path for plugins: the auth JSON, URL-encoded, in the URL.
    owner = PodOwner(pod_server)
    auth = owner.plugin_auth(owner.create_run({"handle": "alice"})["id"])
    data = b"a photo"
    sha = hashlib.sha256(data).hexdigest()
    import urllib.request

    encoded = quote(json.dumps({"type": "PluginAuth", **auth}))
    request = urllib.request.Request(
        f"{pod_server.url}/v4/{owner.owner_key}/upload_file_b/{encoded}/{sha}", data=data,
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 (loopback)
        assert response.status == 200
    assert owner.dump()["files"] == [sha]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_restarted_pod_refuses_earlier_plugin_auths_and_stores_no_key(tmp_path: Path) -> None:
    data_file, port = tmp_path / "pod.sqlite3", str(free_port())
    with podserver("--port", port, "--data", str(data_file)) as server:
        owner = PodOwner(server)
        run = owner.create_run({"handle": "alice"})
        auth = owner.plugin_auth(run["id"])
        assert plugin_call(server, owner.owner_key, auth, "get_item", run["id"])[0] == 200
    with podserver("--port", port, "--data", str(data_file)) as server:
        # The key that sealed it lived in the first process only, as in a Pod.
        assert plugin_call(server, owner.owner_key, auth, "get_item", run["id"])[0] == 401
        assert owner.ok("get_item", run["id"])[0]["id"] == run["id"]
    stored = b"".join(p.read_bytes() for p in tmp_path.glob("pod.sqlite3*")).decode("latin-1")
    for secret in (owner.owner_key, owner.database_key, *auth["data"].values()):
        assert secret not in stored
