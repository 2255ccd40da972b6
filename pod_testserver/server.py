"""The HTTP side of the test Pod: the routes pymemri 0.1.2 calls, with the Pod's semantics.

Every owner-scoped call is ``POST /v4/<owner>/<endpoint>`` with the body
``{"auth": {"type": "ClientAuth", "databaseKey": ...}, "payload": ...}``, or, from a plugin the
Pod started, ``{"auth": {"type": "PluginAuth", "data": {"nonce": ..., "encryptedPermissions":
...}}, ...}`` (:mod:`.pluginauth`: the database key, encrypted with a key only this process
knows). The first key seen for an owner (through ``/v4/account`` or any call) opens that
owner's database; any other key is answered 401, as a Pod whose SQLCipher database does not
open with it. Errors are plain-text bodies with the Pod's status codes (400 bad input, 401 auth,
404 missing, 409 duplicate id, 413 body over 5 MiB, 500 injected faults).

No key is ever stored: the data file knows an owner by the SHA-256 of its owner key and checks
its database key against a SHA-256 too. ``PluginRun`` is a built-in type (its properties need
no schema), as in a Pod that starts plugins.

Test-only routes (not in a Pod): ``GET /_podserver/dump?owner=...`` (all items, edges, schemas
and file hashes of an owner), ``GET /_podserver/stats`` (requests per endpoint and status, and
per auth type: ``auth/ClientAuth``, ``auth/PluginAuth``), ``POST /_podserver/plugin_auth``
(``{"owner", "databaseKey", "pluginRunId"}`` → ``{"data": {"nonce", "encryptedPermissions"}}``,
the ``POD_AUTH_JSON`` a Pod gives the plugin it starts for that PluginRun item; the owner's
database key is the proof of ownership) and ``POST /_podserver/faults``
(``{"failWrites": share, "loseAnswers": share}``, changes fault
injection at run time: refused writes change nothing; a lost answer is a 500 after the write
was applied, as when a connection drops before the answer arrives).
"""

from __future__ import annotations

import json
import logging
import random
import re
from collections import Counter
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

from aiohttp import web

from pod_testserver.pluginauth import BadPluginAuth, PluginAuthority
from pod_testserver.storage import PodError, Storage, key_hash

logger = logging.getLogger(__name__)

POD_VERSION = "0.4.4"
#: The Pod's limit for items-API bodies (warp_api.rs); files may be larger.
JSON_BODY_LIMIT = 5 * 1024 * 1024
FILE_BODY_LIMIT = 500 * 1024 * 1024
KEY_RE = re.compile(r"^[0-9a-fA-F]{64}$")
WRITE_ENDPOINTS = {
    "create_item",
    "update_item",
    "delete_item",
    "create_edge",
    "delete_edge_by_source_target",
    "upload_file",
}
READ_ENDPOINTS = {"get_item", "get_edges", "search", "get_file"}

STORAGE: web.AppKey[Storage] = web.AppKey("storage", Storage)
STATE: web.AppKey[dict[str, Any]] = web.AppKey("state", dict)


def _json(value: Any) -> web.Response:
    return web.Response(text=json.dumps(value), content_type="application/json")


def _error(status: int, message: str) -> web.Response:
    return web.Response(status=status, text=message)


def _is_write(endpoint: str, payload: Any) -> bool:
    if endpoint in WRITE_ENDPOINTS:
        return True
    if endpoint == "bulk" and isinstance(payload, dict):
        return any(
            payload.get(k) for k in ("createItems", "updateItems", "deleteItems", "createEdges")
        )
    return False


class PodServer:
    """Request handling, on top of one :class:`Storage`."""

    def __init__(
        self,
        storage: Storage,
        *,
        fail_writes: float = 0.0,
        lose_answers: float = 0.0,
        seed: int = 0,
    ) -> None:
        self.storage = storage
        self.fail_writes = fail_writes
        self.lose_answers = lose_answers
        self.random = random.Random(seed)
        self.stats: Counter[str] = Counter()
        self.plugin_auth = PluginAuthority()

    def app(self) -> web.Application:
        app = web.Application(client_max_size=FILE_BODY_LIMIT)
        app[STORAGE] = self.storage
        app.router.add_get("/", self.root)
        app.router.add_get("/version", self.version)
        app.router.add_post("/v4/account", self.account)
        app.router.add_post("/v4/{owner}/upload_file/{dbkey}/{sha}", self.upload_file)
        app.router.add_post("/v4/{owner}/upload_file_b/{auth:.+}/{sha}", self.upload_file_b)
        app.router.add_post("/v4/{owner}/{endpoint:.+}", self.v4)
        app.router.add_post("/v5/{owner}/{endpoint:.+}", self.v5)
        app.router.add_get("/_podserver/dump", self.dump)
        app.router.add_get("/_podserver/stats", self.get_stats)
        app.router.add_post("/_podserver/faults", self.set_faults)
        app.router.add_post("/_podserver/plugin_auth", self.issue_plugin_auth)
        return app

    # -- helpers -------------------------------------------------------------------------------

    def _count(self, endpoint: str, status: int) -> None:
        self.stats[endpoint] += 1
        self.stats[f"{endpoint}/{status}"] += 1

    def _fault(self) -> bool:
        return self.fail_writes > 0 and self.random.random() < self.fail_writes

    def _lost(self) -> bool:
        return self.lose_answers > 0 and self.random.random() < self.lose_answers

    async def _body(self, request: web.Request) -> tuple[str, Any]:
        """The database key the request's auth carries, and its payload."""
        raw = await request.read()
        if len(raw) > JSON_BODY_LIMIT:
            raise PodError(413, "Payload too large")
        try:
            body = json.loads(raw or b"null")
        except ValueError:
            raise PodError(400, "Body is not JSON") from None
        if not isinstance(body, dict) or "auth" not in body or "payload" not in body:
            raise PodError(400, 'Body must be {"auth": ..., "payload": ...}')
        return self._database_key(request.match_info["owner"], body["auth"]), body["payload"]

    def _database_key(self, owner: str, auth: Any) -> str:
        kind = auth.get("type") if isinstance(auth, dict) else None
        if kind == "ClientAuth":
            key = auth.get("databaseKey")
        elif kind == "PluginAuth":
            try:
                key, _ = self.plugin_auth.open(owner, auth.get("data"))
            except BadPluginAuth as exc:
                self.stats["auth/PluginAuth/401"] += 1
                raise PodError(401, str(exc)) from None
        else:
            raise PodError(401, 'auth must be {"type": "ClientAuth"} or {"type": "PluginAuth"}')
        if not isinstance(key, str) or not KEY_RE.match(key):
            raise PodError(401, "databaseKey must be 64 hexadecimal characters")
        self.stats[f"auth/{kind}"] += 1
        return key

    @staticmethod
    def _owner(request: web.Request) -> str:
        """The owner as the data file knows it (the SHA-256 of the owner key), after checking
        the key in the URL."""
        owner = request.match_info["owner"]
        if not KEY_RE.match(owner):
            raise PodError(400, "The owner key must be 64 hexadecimal characters")
        return key_hash(owner)

    # -- routes --------------------------------------------------------------------------------

    async def root(self, request: web.Request) -> web.Response:
        return web.Response(text="Pod test server (pod_testserver)")

    async def version(self, request: web.Request) -> web.Response:
        self._count("version", 200)
        return _json({"cargo": POD_VERSION, "git_describe": "pod_testserver"})

    async def account(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
            owner, key = body.get("ownerKey"), body.get("databaseKey")
            if not (isinstance(owner, str) and KEY_RE.match(owner)):
                raise PodError(400, "ownerKey must be 64 hexadecimal characters")
            if not (isinstance(key, str) and KEY_RE.match(key)):
                raise PodError(400, "databaseKey must be 64 hexadecimal characters")
            with self.storage.transaction():
                self.storage.check_owner(key_hash(owner), key)
        except PodError as exc:
            self._count("account", exc.status)
            return _error(exc.status, exc.message)
        except ValueError:
            self._count("account", 400)
            return _error(400, "Body is not JSON")
        self._count("account", 200)
        return _json(None)

    async def v4(self, request: web.Request) -> web.Response:
        path = request.match_info["endpoint"]
        # An unknown path is logged and counted by its first segment only: the rest could be
        # anything, an auth JSON among them.
        endpoint = path.split("/", 1)[0]
        try:
            owner = self._owner(request)
            key, payload = await self._body(request)
            handler = {
                "create_item": self.storage.create_item,
                "get_item": self.storage.get_item,
                "update_item": self.storage.update_item,
                "delete_item": self.storage.delete_item,
                "create_edge": self.storage.create_edge,
                "delete_edge_by_source_target": self.storage.delete_edge,
                "get_edges": self.storage.get_edges,
                "search": self.storage.search,
                "bulk": self.storage.bulk,
                "get_file": self.storage.get_file,
            }.get(path)
            if handler is None:
                raise PodError(404, "Endpoint not found")
            write = _is_write(endpoint, payload)
            if write and self._fault():
                raise PodError(500, "Injected fault: the Pod refuses writes (--fail-writes)")
            with self.storage.transaction():
                self.storage.check_owner(owner, key)
                result = handler(owner, payload)
            if write and self._lost():
                raise PodError(500, "Injected fault: the write was applied, its answer lost")
        except PodError as exc:
            self._count(endpoint, exc.status)
            logger.info("POST /v4/…/%s: %s %s", endpoint, exc.status, exc.message)
            return _error(exc.status, exc.message)
        self._count(endpoint, 200)
        logger.debug("POST /v4/…/%s: 200", endpoint)
        if isinstance(result, bytes):
            return web.Response(body=result, content_type="application/octet-stream")
        return _json(result)

    async def v5(self, request: web.Request) -> web.Response:
        path = request.match_info["endpoint"]
        # An unknown path is logged and counted by its first segment only: the rest could be
        # anything, an auth JSON among them.
        endpoint = path.split("/", 1)[0]
        try:
            owner = self._owner(request)
            key, payload = await self._body(request)
            if path != "schema":
                raise PodError(404, "Endpoint not found")
            with self.storage.transaction():
                self.storage.check_owner(owner, key)
                self.storage.add_schema(owner, payload)
        except PodError as exc:
            self._count(f"v5/{endpoint}", exc.status)
            logger.info("POST /v5/…/%s: %s %s", endpoint, exc.status, exc.message)
            return _error(exc.status, exc.message)
        self._count(f"v5/{endpoint}", 200)
        return _json({})

    async def upload_file(self, request: web.Request) -> web.Response:
        def key() -> str:
            dbkey = request.match_info["dbkey"]
            if not KEY_RE.match(dbkey):
                raise PodError(401, "databaseKey must be 64 hexadecimal characters")
            return dbkey

        return await self._upload(request, key)

    async def upload_file_b(self, request: web.Request) -> web.Response:
        """``upload_file`` for plugins: the auth JSON, URL-encoded, in place of the key."""

        def key() -> str:
            try:
                auth = json.loads(unquote(request.match_info["auth"]))
            except ValueError:
                raise PodError(401, "The auth in the URL is not JSON") from None
            return self._database_key(request.match_info["owner"], auth)

        return await self._upload(request, key)

    async def _upload(self, request: web.Request, database_key: Callable[[], str]) -> web.Response:
        try:
            owner = self._owner(request)
            key = database_key()
            data = await request.read()
            if self._fault():
                raise PodError(500, "Injected fault: the Pod refuses writes (--fail-writes)")
            with self.storage.transaction():
                self.storage.check_owner(owner, key)
                self.storage.upload_file(owner, request.match_info["sha"], data)
        except PodError as exc:
            self._count("upload_file", exc.status)
            return _error(exc.status, exc.message)
        self._count("upload_file", 200)
        return _json(None)

    async def issue_plugin_auth(self, request: web.Request) -> web.Response:
        """What a Pod does when it starts a plugin for a PluginRun item: a PluginAuth for it."""
        try:
            try:
                body = await request.json()
            except ValueError:
                raise PodError(400, "Body is not JSON") from None
            if not isinstance(body, dict):
                raise PodError(400, 'Body must be {"owner", "databaseKey", "pluginRunId"}')
            owner, key, run_id = body.get("owner"), body.get("databaseKey"), body.get("pluginRunId")
            if not (isinstance(owner, str) and KEY_RE.match(owner)):
                raise PodError(400, "owner must be 64 hexadecimal characters")
            if not (isinstance(key, str) and KEY_RE.match(key)):
                raise PodError(401, "databaseKey must be 64 hexadecimal characters")
            if not isinstance(run_id, str) or not run_id:
                raise PodError(400, "pluginRunId must name a PluginRun item")
            with self.storage.transaction():
                if key_hash(owner) not in self.storage.owners():
                    raise PodError(404, "No such owner")
                self.storage.check_owner(key_hash(owner), key, register=False)
                found = self.storage.get_item(key_hash(owner), run_id)
            if not found or found[0]["type"] != "PluginRun" or found[0]["deleted"]:
                raise PodError(404, f"No PluginRun item with id {run_id}")
        except PodError as exc:
            self._count("_podserver/plugin_auth", exc.status)
            return _error(exc.status, exc.message)
        self._count("_podserver/plugin_auth", 200)
        logger.info("Issued a PluginAuth for the PluginRun %s", run_id)
        return _json({"data": self.plugin_auth.issue(owner, key, run_id)})

    async def dump(self, request: web.Request) -> web.Response:
        owner = request.query.get("owner")
        if not owner:
            return _json({"owners": len(self.storage.owners())})
        return _json(self.storage.dump(key_hash(owner)))

    async def get_stats(self, request: web.Request) -> web.Response:
        return _json(dict(self.stats))

    async def set_faults(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
            shares = {
                name: float(body.get(name, current))
                for name, current in (
                    ("failWrites", self.fail_writes),
                    ("loseAnswers", self.lose_answers),
                )
            }
        except (ValueError, TypeError, AttributeError):
            return _error(400, 'Body must be {"failWrites": share, "loseAnswers": share}')
        if not all(0.0 <= share <= 1.0 for share in shares.values()):
            return _error(400, "shares must be between 0 and 1")
        self.fail_writes, self.lose_answers = shares["failWrites"], shares["loseAnswers"]
        logger.info(
            "Fault injection: refusing %.0f%% of writes, losing the answer of %.0f%%",
            self.fail_writes * 100,
            self.lose_answers * 100,
        )
        return _json(shares)
