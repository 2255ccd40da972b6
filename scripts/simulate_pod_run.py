#!/usr/bin/env python3
"""Runs the plugin as a Pod would, against a local Pod: the whole path, without Docker.

    python scripts/simulate_pod_run.py --pod http://127.0.0.1:3030 --handle alice \\
        --api-url http://127.0.0.1:8080 [--owner-key HEX --database-key HEX] [-- -s LOG_LEVEL=DEBUG]

What a Pod and its front end do when someone starts the importer, in order:

1. the front end creates a ``PluginRun`` item (``containerImage``, ``pluginModule``, ``config``
   with the handle and options, ``status`` ``idle``) with the owner's keys (ClientAuth);
2. the Pod issues a PluginAuth for that run (the test Pod does it on request, through its
   test-only route ``POST /_podserver/plugin_auth``; for another Pod pass ``--auth-json``);
3. the Pod starts the container's command, ``python -m twitter_crawler.plugin``, with
   ``POD_FULL_ADDRESS``, ``POD_OWNER``, ``POD_AUTH_JSON`` and ``POD_TARGET_ITEM`` in a clean
   environment (plus ``TWITTER_*`` variables of this script's environment, as a container's
   configured environment would carry credentials: never on a command line), in an empty
   working directory (no ``settings_local.py``), as in the container;
4. the front end reads the PluginRun's status back.

This script does all four, prints the plugin's output as it comes, then the PluginRun's final
status and what the Pod now holds, and exits with the plugin's exit status. Without keys it makes
a fresh owner (an empty database on the test Pod) and prints its keys, so that its data can be
looked at (``/_podserver/dump?owner=...``); keys given to it are never printed.

Only the standard library is used here; the plugin itself needs the ``pod`` extra.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
#: The container's command (the Dockerfile's ENTRYPOINT), with this Python.
COMMAND = [sys.executable, "-m", "twitter_crawler.plugin"]
DATA_TYPES = ("Account", "Tweet", "Photo", "Video", "Website")
#: What a clean container environment has besides the Pod's variables.
BASE_ENVIRONMENT = ("PATH", "HOME", "LANG", "LC_ALL", "TZ", "SYSTEMROOT")


class PodRequestError(Exception):
    pass


def post(url: str, payload: Any, timeout: float = 30) -> Any:
    request = urllib.request.Request(
        url,
        data=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310
            body = answer.read()
    except urllib.error.HTTPError as exc:
        # The URL holds the owner key: only the status and the Pod's message are shown.
        message = exc.read().decode(errors="replace")[:300]
        raise PodRequestError(f"HTTP {exc.code} {message}") from None
    except urllib.error.URLError as exc:
        raise PodRequestError(f"cannot reach the Pod: {exc.reason}") from None
    return json.loads(body or b"null")


class Pod:
    """The owner's side of a Pod (ClientAuth), through the v4 API."""

    def __init__(self, url: str, owner_key: str, database_key: str) -> None:
        self.url = url.rstrip("/")
        self.owner_key = owner_key
        self.database_key = database_key

    def call(self, endpoint: str, payload: Any) -> Any:
        auth = {"type": "ClientAuth", "databaseKey": self.database_key}
        body = {"auth": auth, "payload": payload}
        return post(f"{self.url}/v4/{self.owner_key}/{endpoint}", body)

    def create_account(self) -> None:
        # pymemri's PodClient() does this too; Pods without the route answer 404, ignored.
        try:
            keys = {"ownerKey": self.owner_key, "databaseKey": self.database_key}
            post(f"{self.url}/v4/account", keys)
        except PodRequestError:
            pass

    def create_plugin_run(self, config: dict[str, Any]) -> dict[str, Any]:
        run = {
            "id": uuid.uuid4().hex,
            "type": "PluginRun",
            "containerImage": "twitter_crawler:latest",
            "pluginModule": "twitter_crawler.plugin",
            "pluginName": "TwitterCrawler",
            "config": json.dumps(config),
            "status": "idle",
            "progress": 0.0,
        }
        self.call("create_item", run)
        return run

    def plugin_auth(self, run_id: str) -> dict[str, Any]:
        """What the Pod hands the plugin it starts; only the test Pod issues it on request."""
        try:
            return post(
                f"{self.url}/_podserver/plugin_auth",
                {"owner": self.owner_key, "databaseKey": self.database_key, "pluginRunId": run_id},
            )
        except PodRequestError as exc:
            raise PodRequestError(
                f"the Pod did not issue a PluginAuth ({exc}); only the test Pod "
                "(python -m pod_testserver) does: for another Pod pass --auth-json"
            ) from None

    def get(self, item_id: str) -> dict[str, Any] | None:
        found = self.call("get_item", item_id)
        return found[0] if found else None

    def count(self, kind: str) -> int:
        return len(self.call("search", {"type": kind, "deleted": False}))


def plugin_environment(pod_url: str, owner_key: str, auth: dict[str, Any],
                       run: dict[str, Any]) -> dict[str, str]:
    env = {name: os.environ[name] for name in BASE_ENVIRONMENT if name in os.environ}
    env.update({k: v for k, v in os.environ.items() if k.startswith("TWITTER_")})
    try:
        import twitter_crawler  # noqa: F401
    except ImportError:  # a checkout, not installed: the plugin imports it from here
        env["PYTHONPATH"] = str(ROOT)
    else:
        if "PYTHONPATH" in os.environ:
            env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    env.update(
        {
            "POD_FULL_ADDRESS": pod_url,
            "POD_OWNER": owner_key,
            "POD_AUTH_JSON": json.dumps(auth),
            "POD_TARGET_ITEM": json.dumps(run),
        }
    )
    return env


def parse_args(argv: list[str] | None = None) -> tuple[argparse.Namespace, list[str]]:
    parser = argparse.ArgumentParser(
        prog="python scripts/simulate_pod_run.py",
        description="Create a PluginRun in a Pod and start the plugin as the Pod would.",
        epilog="Arguments after -- go to the plugin (e.g. -- -s LOG_LEVEL=DEBUG).",
    )
    parser.add_argument("--pod", required=True, metavar="URL", help="the Pod, http(s)://host:port")
    parser.add_argument("--owner-key", metavar="HEX", help="64 hex; default: a fresh owner")
    parser.add_argument("--database-key", metavar="HEX", help="64 hex; default: a fresh owner")
    parser.add_argument("--auth-json", metavar="JSON",
                        help="the PluginAuth to hand the plugin (default: ask the test Pod)")
    parser.add_argument("--handle", required=True, help="the account to import")
    parser.add_argument("--api-url", metavar="URL",
                        help="Twitter API base URL, e.g. the emulator's (config api_url)")
    parser.add_argument("--parts", help="config parts (comma list)")
    parser.add_argument("--limit", type=int, help="config limit")
    parser.add_argument("--following-tweets", type=int, help="config following_tweets")
    argv = sys.argv[1:] if argv is None else argv
    extra: list[str] = []
    if "--" in argv:
        at = argv.index("--")
        argv, extra = argv[:at], argv[at + 1 :]
    args = parser.parse_args(argv)
    if bool(args.owner_key) != bool(args.database_key):
        parser.error("give both --owner-key and --database-key, or neither")
    return args, extra


def main(argv: list[str] | None = None) -> int:
    args, extra = parse_args(argv)
    fresh = not args.owner_key
    owner_key = args.owner_key or secrets.token_hex(32)
    database_key = args.database_key or secrets.token_hex(32)
    pod = Pod(args.pod, owner_key, database_key)
    config: dict[str, Any] = {"handle": args.handle}
    for key in ("api_url", "parts", "limit", "following_tweets"):
        if getattr(args, key) is not None:
            config[key] = getattr(args, key)
    try:
        pod.create_account()
        run = pod.create_plugin_run(config)
        auth = json.loads(args.auth_json) if args.auth_json else pod.plugin_auth(run["id"])
    except (PodRequestError, ValueError) as exc:
        print(f"simulate_pod_run: {exc}", file=sys.stderr)  # noqa: T201
        return 2
    if fresh:
        print(  # noqa: T201
            f"simulate_pod_run: fresh owner {owner_key}, database key {database_key}"
        )
    command = " ".join(["python", *COMMAND[1:], *extra])
    print(  # noqa: T201
        f"simulate_pod_run: PluginRun {run['id']} created, config {json.dumps(config)}; "
        f"starting {command}",
        flush=True,
    )
    env = plugin_environment(pod.url, owner_key, auth, run)
    # In a directory of its own, as in a container: no settings_local.py of this checkout.
    with tempfile.TemporaryDirectory(prefix="plugin-run-") as workdir:
        code = subprocess.call([*COMMAND, *extra], env=env, cwd=workdir)  # noqa: S603
    try:
        final = pod.get(run["id"]) or {}
        counts = {kind: pod.count(kind) for kind in DATA_TYPES}
    except PodRequestError as exc:
        print(  # noqa: T201
            f"simulate_pod_run: the plugin exited {code}; cannot read the Pod: {exc}",
            file=sys.stderr,
        )
        return code or 1
    print(  # noqa: T201
        f"simulate_pod_run: the plugin exited {code}; PluginRun {run['id']}: "
        f"status={final.get('status')} progress={final.get('progress')} "
        f"error={final.get('error') or '-'}\n"
        "simulate_pod_run: the Pod holds " + ", ".join(f"{n:,} {k}" for k, n in counts.items())
    )
    return code


if __name__ == "__main__":
    raise SystemExit(main())
