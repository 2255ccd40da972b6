"""The plugin as the Pod runs it: the Dockerfile's command, the Pod's four environment variables,
a PluginRun item in the test Pod, and what the Pod holds afterwards, compared with the truth."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import urllib.error
import urllib.request
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.support.apicheck import assert_world_equals
from tests.support.crawl import key_of, merged
from tests.support.servers import ROOT, ServerProcess

DATA_TYPES = ("Account", "Tweet", "Photo", "Video", "Website")
#: Properties the Pod keeps as milliseconds since the epoch; the truth has ISO 8601 strings.
DATE_PROPERTIES = ("postDate", "dateJoined")
POD_BASE_FIELDS = {"id", "type", "dateCreated", "dateModified", "dateServerModified", "deleted"}
#: What a container's environment has besides what the Pod sets (and PYTHONPATH: the project is
#: not installed in the development virtualenv, the image installs it).
BASE_ENVIRONMENT = ("PATH", "HOME", "LANG", "LC_ALL", "TZ")

Key = tuple[str, ...]


def dockerfile_command() -> list[str]:
    """The image's command (its ENTRYPOINT, after the init process), with this Python."""
    for line in (ROOT / "Dockerfile").read_text(encoding="utf-8").splitlines():
        if line.startswith("ENTRYPOINT "):
            command = json.loads(line.removeprefix("ENTRYPOINT "))
            break
    else:
        raise AssertionError("the Dockerfile has no ENTRYPOINT in exec form")
    if command[:2] == ["tini", "--"]:
        command = command[2:]
    assert command[0] == "python", command
    return [sys.executable, *command[1:]]


def container_env(pod: dict[str, str], extra: dict[str, str] | None = None) -> dict[str, str]:
    """A clean environment: nothing of the developer's ``TWITTER_*``/``POD_*`` variables."""
    env = {name: os.environ[name] for name in BASE_ENVIRONMENT if name in os.environ}
    env["PYTHONPATH"] = str(ROOT)
    env["TWITTER_MEDIA"] = ""  # the truth compared with lists no files (tests/media has them)
    env.update(pod)
    env.update(extra or {})
    return env


@dataclass
class PluginResult:
    returncode: int
    stdout: str
    stderr: str


def run_plugin(env: dict[str, str], *args: str, cwd: Path, timeout: float = 120) -> PluginResult:
    """The container's command in a working directory of its own (no ``settings_local.py``)."""
    proc = subprocess.run(  # noqa: S603 (our own command line)
        [*dockerfile_command(), *args],
        capture_output=True, text=True, cwd=cwd, env=env, timeout=timeout, check=False,
    )
    return PluginResult(proc.returncode, proc.stdout, proc.stderr)


def post(url: str, payload: Any) -> tuple[int, Any]:
    request = urllib.request.Request(
        url, data=json.dumps(payload).encode(), headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 (loopback)
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, exc.read().decode()


class PodOwner:
    """One owner of the test Pod (fresh keys: an empty database), seen from its front end."""

    def __init__(self, server: ServerProcess) -> None:
        self.server = server
        self.owner_key, self.database_key = secrets.token_hex(32), secrets.token_hex(32)
        status, answer = post(f"{server.url}/v4/account",
                              {"ownerKey": self.owner_key, "databaseKey": self.database_key})
        assert status == 200, answer

    def call(self, endpoint: str, payload: Any) -> tuple[int, Any]:
        auth = {"type": "ClientAuth", "databaseKey": self.database_key}
        return post(f"{self.server.url}/v4/{self.owner_key}/{endpoint}",
                    {"auth": auth, "payload": payload})

    def ok(self, endpoint: str, payload: Any) -> Any:
        status, answer = self.call(endpoint, payload)
        assert status == 200, answer
        return answer

    def create_run(self, config: dict[str, Any] | str | None) -> dict[str, Any]:
        """A PluginRun item, as the front end creates it (``config`` a JSON string)."""
        run: dict[str, Any] = {
            "id": uuid.uuid4().hex,
            "type": "PluginRun",
            "containerImage": "twitter_crawler:latest",
            "pluginModule": "twitter_crawler.plugin",
            "pluginName": "TwitterCrawler",
            "status": "idle",
        }
        if config is not None:
            run["config"] = config if isinstance(config, str) else json.dumps(config)
        self.ok("create_item", run)
        return run

    def plugin_auth(self, run_id: str) -> dict[str, Any]:
        status, answer = post(
            f"{self.server.url}/_podserver/plugin_auth",
            {"owner": self.owner_key, "databaseKey": self.database_key, "pluginRunId": run_id},
        )
        assert status == 200, answer
        return answer

    def pod_env(self, run: dict[str, Any], auth: dict[str, Any] | None = None) -> dict[str, str]:
        """The four variables the Pod gives the plugin it starts for ``run``."""
        return {
            "POD_FULL_ADDRESS": self.server.url,
            "POD_OWNER": self.owner_key,
            "POD_AUTH_JSON": json.dumps(auth or self.plugin_auth(run["id"])),
            "POD_TARGET_ITEM": json.dumps(run),
        }

    def get(self, item_id: str) -> dict[str, Any]:
        found = self.ok("get_item", item_id)
        assert found, f"no item {item_id}"
        return found[0]

    def dump(self) -> dict[str, Any]:
        return self.server.get_json(f"/_podserver/dump?owner={self.owner_key}")


def auth_counts(server: ServerProcess) -> Counter[str]:
    stats = server.get_json("/_podserver/stats")
    return Counter({k: v for k, v in stats.items() if k.startswith("auth/")})


# -- what the Pod holds, against the truth --------------------------------------------------------


def ms_to_iso(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        return datetime.fromtimestamp(value / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return value


def pod_world(dump: dict[str, Any]) -> tuple[dict[Key, dict[str, Any]], list[Key]]:
    """The data items of a Pod dump keyed like the truth, and its edges (duplicates kept)."""
    items: dict[Key, dict[str, Any]] = {}
    by_id: dict[str, Key] = {}
    deleted = {item["id"] for item in dump["items"] if item["deleted"]}
    for item in dump["items"]:
        if item["type"] not in DATA_TYPES or item["deleted"]:
            continue
        props = {k: v for k, v in item.items() if k not in POD_BASE_FIELDS}
        for name in DATE_PROPERTIES:
            if name in props:
                props[name] = ms_to_iso(props[name])
        key = key_of({"type": item["type"], **props})
        assert key not in items, f"stored twice: {key}"
        items[key] = {"type": item["type"], **props}
        by_id[item["id"]] = key
    edges = [
        ("Edge", *by_id[edge["_source"]], edge["_name"], *by_id[edge["_target"]])
        for edge in dump["edges"]
        if edge["_self"] not in deleted
    ]
    return items, edges


def assert_pod_equals_truth(dump: dict[str, Any], truth: list[dict[str, Any]]) -> None:
    """The Pod holds exactly the truth: every item with its properties, every edge, once."""
    items, edges = pod_world(dump)
    assert_world_equals(items, edges, merged(truth))
