"""The aiohttp application: /1.1 and /2 routes with auth, quotas and faults, and /_emulator control.

Every /1.1 request goes through the same steps, in Twitter's order: authenticate (400/401),
refuse when the access level is too low (403 code 453), count against the quota (429 code 88),
then maybe meet an injected fault, then the endpoint. /2 requests take the same steps with v2's
answers: OAuth 1.0a user context or an app-only ``Authorization: Bearer`` token (else 401
``Unauthorized``), 404, 403 ``client-forbidden`` (``--v2-client-forbidden``), 429
``Too Many Requests`` (per token and endpoint; a bearer token is an app context with its own
limits), the usage cap or another injected problem (``usage.py``: 429 ``usage-capped`` once
``--usage-cap`` posts were served), the answer's cost against the credits left (``--credits``:
402 when it would cost more), faults, then the endpoint (``v2.py``), billed as X bills it
(``billing.py``). Every answer, errors included, carries
``x-rate-limit-*`` headers, and every request is appended to a bounded log that tests read
through ``/_emulator/log``.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qsl

from aiohttp import web

from twitter_emulator.api import ApiError, Params, twitter_error
from twitter_emulator.billing import OWNED_ENDPOINTS, Billing
from twitter_emulator.faults import DROP, FIVE_XX, TRUNCATE, FaultPlan
from twitter_emulator.media import MediaServer
from twitter_emulator.oauth import AuthError, Verifier, base_url, parse_authorization
from twitter_emulator.quotas import QuotaBook, QuotaState
from twitter_emulator.usage import Usage, usage_tweets
from twitter_emulator.v2 import (
    APP_ONLY,
    CLIENT_FORBIDDEN,
    DATA_ENDPOINTS,
    NOT_FOUND,
    TOO_MANY_REQUESTS,
    UNAUTHORIZED,
    UNSUPPORTED_BEARER,
    UNSUPPORTED_USER_CONTEXT,
    USER_CONTEXT_ONLY,
    V2Error,
    route as v2_route,
)

logger = logging.getLogger(__name__)

JSON_TYPE = "application/json;charset=utf-8"
PROBLEM_TYPE = "application/problem+json"
RATE_LIMIT_TEMPLATE = Path(__file__).parent / "recordings" / "twitter-v1.1" / "pytwitter__ratelimit.body.json"
#: Twitter's answer on an access level without v1.1 reads (TWITTER_API.md §1.6), verbatim.
ACCESS_LEVEL_BODY = {
    "errors": [{
        "message": "You currently have access to a subset of Twitter API v2 endpoints and limited v1.1 "
                   "endpoints (e.g. media post, oauth) only. If you need access to this endpoint, you may "
                   "need a different access level. You can learn more here: "
                   "https://developer.twitter.com/en/portal/product",
        "code": 453,
    }]
}
#: rate_limit_status resource names of the endpoints served here.
RESOURCE_NAMES = {
    "/users/show/:id": "users/show",
    "/users/lookup": "users/lookup",
    "/followers/list": "followers/list",
    "/followers/ids": "followers/ids",
    "/friends/list": "friends/list",
    "/friends/ids": "friends/ids",
    "/statuses/user_timeline": "statuses/user_timeline",
    "/application/rate_limit_status": "application/rate_limit_status",
}


def dumps(payload: Any) -> bytes:
    """Compact JSON as Twitter sends it (non-ASCII escaped, like the recordings)."""
    return json.dumps(payload, separators=(",", ":")).encode()


class Dataset(Protocol):
    dataset: str

    def users_show(self, params: Params) -> Any: ...
    def users_lookup(self, params: Params) -> Any: ...
    def contacts_list(self, which: str, params: Params) -> Any: ...
    def contacts_ids(self, which: str, params: Params) -> Any: ...
    def user_timeline(self, params: Params) -> Any: ...
    def summary(self) -> dict[str, Any]: ...


@dataclass
class RequestLog:
    """The last ``size`` requests (/1.1, /2 and media), numbered from 1."""

    size: int = 50_000
    seq: int = 0
    entries: deque = field(default_factory=deque)

    def add(self, entry: dict[str, Any]) -> None:
        self.seq += 1
        entry["seq"] = self.seq
        self.entries.append(entry)
        while len(self.entries) > self.size:
            self.entries.popleft()

    def since(self, seq: int) -> list[dict[str, Any]]:
        return [e for e in self.entries if e["seq"] > seq]


@dataclass
class Emulator:
    """Everything a running emulator holds; the aiohttp handlers are its methods."""

    api: Dataset
    verifier: Verifier
    quotas: QuotaBook
    faults: FaultPlan
    access_level_453: bool = False
    log: RequestLog = field(default_factory=RequestLog)
    options: dict[str, Any] = field(default_factory=dict)
    v2: Any = None  # the /2 endpoints (v2.SyntheticV2 or v2.RecordedV2); None: /2 is 404
    bearer_tokens: tuple[str, ...] = ()  # accepted app-only bearer tokens (/2 only)
    v2_client_forbidden: bool = False  # answer every /2 endpoint 403 client-forbidden
    media: MediaServer | None = None  # the media listener; its rewrite applies to every payload
    usage: Usage = field(default_factory=Usage)  # posts served, the usage cap, injected problems
    billing: Billing = field(default_factory=Billing)  # what the /2 answers cost (pay-per-use)
    app_owner: str | None = None  # the id of the user who owns the developer app (Owned Reads)

    def routes(self) -> dict[str, tuple[tuple[str, ...], Callable[[Params], Any]]]:
        api = self.api
        return {
            "users/show": (("GET",), api.users_show),
            "users/lookup": (("GET", "POST"), api.users_lookup),
            "followers/list": (("GET",), lambda p: api.contacts_list("followers", p)),
            "friends/list": (("GET",), lambda p: api.contacts_list("friends", p)),
            "followers/ids": (("GET",), lambda p: api.contacts_ids("followers", p)),
            "friends/ids": (("GET",), lambda p: api.contacts_ids("friends", p)),
            "statuses/user_timeline": (("GET",), api.user_timeline),
            "application/rate_limit_status": (("GET",), self.rate_limit_status_for),
        }

    def app(self) -> web.Application:
        app = web.Application(client_max_size=4 * 1024 * 1024)
        self._routes = self.routes()
        self._token = ""  # the token of the request being answered (single-threaded loop)
        self._template = self._load_template()
        app.router.add_route("*", "/1.1/{tail:.*}", self.handle_v11)
        app.router.add_route("*", "/2/{tail:.*}", self.handle_v2)
        app.router.add_get("/_emulator/world", self.handle_world)
        app.router.add_get("/_emulator/truth", self.handle_truth)
        app.router.add_get("/_emulator/log", self.handle_log)
        app.router.add_post("/_emulator/mutate", self.handle_mutate)
        app.router.add_post("/_emulator/quotas/reset", self.handle_quota_reset)
        app.router.add_get("/_emulator/usage", self.handle_usage)
        app.router.add_post("/_emulator/usage", self.handle_usage_update)
        app.router.add_get("/_emulator/bill", self.handle_bill)
        app.router.add_post("/_emulator/billing", self.handle_billing_update)
        if self.media is not None:
            self.media.add_control_routes(app)
        app.router.add_get("/", self.handle_index)
        return app

    # -- /1.1 ---------------------------------------------------------------------------------

    async def handle_v11(self, request: web.Request) -> web.StreamResponse:
        path, _, raw_query = request.raw_path.partition("?")
        endpoint = path.removeprefix("/1.1/").removesuffix(".json")
        params_all = parse_qsl(raw_query, keep_blank_values=True)
        if request.method == "POST" and request.content_type == "application/x-www-form-urlencoded":
            body = await request.read()
            params_all += parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
        api_params = [(k, v) for k, v in params_all if not k.startswith("oauth_")]
        params: Params = dict(api_params)
        header = request.headers.get("Authorization")
        claimed = (parse_authorization(header) or {}).get("oauth_token", "") if header else ""
        entry: dict[str, Any] = {
            "time": time.time(), "method": request.method, "endpoint": endpoint, "path": path,
            "query": params, "status": None, "token": claimed or None, "fault": None,
            "api": "1.1", "auth": "oauth1" if claimed else None, "media": False, "problem": None,
            "cost_micro_usd": 0,
        }
        try:
            url = base_url(request.scheme, request.host, path)
            self.verifier.verify(request.method, url, header, params_all)
        except AuthError as err:
            logger.info("%s %s: %d code %d (%s)", request.method, path, err.status, err.code, err.reason)
            return self._respond(entry, err.status, err.body(), self.quotas.peek(claimed or "-", endpoint))
        route = self._routes.get(endpoint)
        if route is None or request.method not in route[0]:
            return self._respond(entry, 404, twitter_error(404, 34, "Sorry, that page does not exist.").body,
                                 self.quotas.peek(claimed, endpoint))
        if self.access_level_453:
            return self._respond(entry, 403, ACCESS_LEVEL_BODY, self.quotas.peek(claimed, endpoint))
        quota = self.quotas.take(claimed, endpoint)
        if not quota.allowed:
            return self._respond(entry, 429, {"errors": [{"code": 88, "message": "Rate limit exceeded"}]}, quota)
        def answer() -> tuple[int, Any]:
            self._token = claimed
            try:
                return 200, route[1](params)
            except ApiError as err:
                return err.status, err.body

        return await self._serve(request, entry, path, api_params, quota, answer, "1.1")

    # -- /2 -----------------------------------------------------------------------------------

    @staticmethod
    def app_key(token: str) -> str:
        """The name of a bearer token's app context in quotas and in the log (never the token)."""
        return "app:" + hashlib.sha256(token.encode()).hexdigest()[:12]

    def _bearer(self, token: str) -> bool:
        token_b = token.encode()
        return any(hmac.compare_digest(token_b, known.encode()) for known in self.bearer_tokens)

    async def handle_v2(self, request: web.Request) -> web.StreamResponse:
        path, _, raw_query = request.raw_path.partition("?")
        tail = path.removeprefix("/2/")
        matched = v2_route(tail)
        endpoint = matched[0] if matched else tail
        params_all = parse_qsl(raw_query, keep_blank_values=True)
        api_params = [(k, v) for k, v in params_all if not k.startswith("oauth_")]
        params: Params = dict(api_params)
        header = request.headers.get("Authorization") or ""
        scheme, _, credentials = header.strip().partition(" ")
        entry: dict[str, Any] = {
            "time": time.time(), "method": request.method, "endpoint": endpoint, "path": path,
            "query": params, "status": None, "token": None, "fault": None, "api": "2", "auth": None,
            "media": False, "problem": None, "cost_micro_usd": 0,
        }
        app = scheme.lower() == "bearer"
        key = "-"
        if app:
            token = credentials.strip()
            if not token or not self._bearer(token):
                logger.info("%s %s: 401 (unknown bearer token)", request.method, path)
                return self._respond(entry, 401, UNAUTHORIZED, self.quotas.peek(key, endpoint, True), PROBLEM_TYPE)
            key = self.app_key(token)
            entry.update(auth="bearer", token=key)
        elif scheme.lower() == "oauth":
            claimed = (parse_authorization(header) or {}).get("oauth_token", "")
            try:
                self.verifier.verify(request.method, base_url(request.scheme, request.host, path), header,
                                     params_all)
            except AuthError as err:
                logger.info("%s %s: 401 (%s)", request.method, path, err.reason)
                entry["token"] = claimed or None
                return self._respond(entry, 401, UNAUTHORIZED, self.quotas.peek(claimed or "-", endpoint),
                                     PROBLEM_TYPE)
            key = claimed
            entry.update(auth="oauth1", token=claimed)
        else:
            logger.info("%s %s: 401 (unsigned request)", request.method, path)
            return self._respond(entry, 401, UNAUTHORIZED, self.quotas.peek(key, endpoint), PROBLEM_TYPE)
        if matched is None or request.method != "GET" or self.v2 is None:
            return self._respond(entry, 404, NOT_FOUND, self.quotas.peek(key, endpoint, app), PROBLEM_TYPE)
        if self.v2_client_forbidden:
            return self._respond(entry, 403, CLIENT_FORBIDDEN, self.quotas.peek(key, endpoint, app), PROBLEM_TYPE)
        if app and endpoint in USER_CONTEXT_ONLY:
            return self._respond(entry, 403, UNSUPPORTED_BEARER, self.quotas.peek(key, endpoint, app),
                                 PROBLEM_TYPE)
        if not app and endpoint in APP_ONLY:
            return self._respond(entry, 403, UNSUPPORTED_USER_CONTEXT, self.quotas.peek(key, endpoint, app),
                                 PROBLEM_TYPE)
        quota = self.quotas.take(key, endpoint, app)
        if not quota.allowed:
            return self._respond(entry, 429, TOO_MANY_REQUESTS, quota, PROBLEM_TYPE)
        usage = self.usage
        billing = self.billing
        if endpoint not in DATA_ENDPOINTS:  # /2/usage/tweets: never refused, never billed
            def usage_answer() -> tuple[int, Any]:
                try:
                    return 200, usage_tweets(usage, params, billing.today())
                except V2Error as err:
                    return err.status, err.body

            return await self._serve(request, entry, path, api_params, quota, usage_answer, "2")
        # After the rate limit, as X's recorded cap answer shows (its request took a unit of the
        # window: remaining = limit - 1); never faulted: the refusal is X's, not the network's.
        refusal = usage.refusal()
        if refusal is not None:
            logger.info("%s %s: %d %s", request.method, path, refusal[0], refusal[1]["title"])
            return self._respond(entry, refusal[0], refusal[1], quota, PROBLEM_TYPE)
        me = self.me_id()
        # Whose token: every user-context token is the main account's (the recorded user's).
        value = me if endpoint == "users/me" else matched[2]
        owned = (not app and endpoint in OWNED_ENDPOINTS and value == me
                 and me is not None and me == self.app_owner)
        try:
            status, payload = 200, self.v2.call(endpoint, value, params)
        except V2Error as err:
            status, payload = err.status, err.body
        if status == 200:
            # The credits: an answer that would cost more than what is left is refused whole
            # (X's balance never goes negative), before faults, as the other refusals.
            refusal = usage.afford(billing.quote(endpoint, payload, owned).total)
            if refusal is not None:
                logger.info("%s %s: %d %s", request.method, path, refusal[0], refusal[1]["title"])
                return self._respond(entry, refusal[0], refusal[1], quota, PROBLEM_TYPE)

        def answer() -> tuple[int, Any]:
            if status != 200:
                return status, payload
            # Quoted again: the day's memory may have changed while --latency held this answer.
            charge = billing.quote(endpoint, payload, owned)
            late = usage.afford(charge.total)
            if late is not None:
                return late
            billing.commit(charge)  # X bills what it serves: a truncated answer too
            usage.pay(charge.total)
            usage.count(endpoint, 200, payload, billing.day)
            entry["cost_micro_usd"] = charge.total
            return 200, payload

        return await self._serve(request, entry, path, api_params, quota, answer, "2")

    def me_id(self) -> str | None:
        """The id of the user of the emulator's access tokens (the main account)."""
        return self.v2.me_id() if self.v2 is not None else None

    async def _serve(self, request: web.Request, entry: dict[str, Any], path: str,
                     api_params: list[tuple[str, str]], quota: QuotaState,
                     answer: Callable[[], tuple[int, Any]], api: str) -> web.StreamResponse:
        """The answer of an authorized, counted request, with the faults ``--seed`` picks for
        it: added latency, a 5xx, a dropped connection or a truncated body."""
        fault, detail = self.faults.decide(request.method, path, api_params)
        if self.faults.latency > 0:
            await asyncio.sleep(self.faults.latency)
        if fault == FIVE_XX:
            status, ctype, body = self.faults.server_error(detail, api=api)
            entry["fault"] = fault
            return self._respond(entry, status, body, quota, content_type=ctype)
        if fault == DROP:
            # Close the connection without a byte of response, as a reset connection looks.
            entry["fault"] = fault
            self.log.add(entry)
            if request.transport is not None:
                request.transport.close()
            return web.Response(status=204)  # never reaches the client
        status, payload = answer()
        if fault == TRUNCATE:
            entry["fault"] = fault
            return await self._truncated(request, entry, status, self.dumps(payload), quota, detail)
        # /2 answers errors as problem JSON
        content_type = PROBLEM_TYPE if api == "2" and status >= 300 else JSON_TYPE
        return self._respond(entry, status, payload, quota, content_type)

    def rewrite(self, body: bytes) -> bytes:
        """Serialized JSON with media URLs pointing where this emulator serves them (``--media``)."""
        return self.media.rewrite(body) if self.media is not None else body

    def dumps(self, payload: Any) -> bytes:
        return self.rewrite(dumps(payload))

    def _respond(
        self, entry: dict[str, Any], status: int, payload: Any, quota: QuotaState, content_type: str = JSON_TYPE
    ) -> web.Response:
        entry["status"] = status
        if status >= 400 and isinstance(payload, dict) and isinstance(payload.get("type"), str):
            entry["problem"] = payload["type"]
        self.log.add(entry)
        body = payload if isinstance(payload, bytes) else self.dumps(payload)
        headers = quota.headers()
        headers["content-type"] = content_type
        return web.Response(status=status, body=body, headers=headers)

    async def _truncated(
        self, request: web.Request, entry: dict[str, Any], status: int, body: bytes, quota: QuotaState, detail: int
    ) -> web.StreamResponse:
        """Announce the full Content-Length, send part of the body, close the connection."""
        entry["status"] = status
        self.log.add(entry)
        resp = web.StreamResponse(status=status, headers={**quota.headers(), "content-type": JSON_TYPE})
        resp.content_length = len(body)
        await resp.prepare(request)
        await resp.write(body[: self.faults.truncated_length(len(body), detail)])
        if request.transport is not None:
            request.transport.close()
        return resp

    def rate_limit_status_for(self, params: Params) -> Any:
        """application/rate_limit_status in the recorded shape, for the requesting token."""
        token = self._token
        now = time.time()
        wanted = {f.strip() for f in params.get("resources", "").split(",") if f.strip()}
        resources: dict[str, Any] = {}
        for family, entries in self._template.items():
            if wanted and family not in wanted:
                continue
            fam: dict[str, Any] = {}
            for name, rec in entries.items():
                endpoint = RESOURCE_NAMES.get(name)
                if endpoint is None:
                    fam[name] = {"limit": rec["limit"], "remaining": rec["limit"], "reset": int(now + self.quotas.window)}
                else:
                    q = self.quotas.peek(token, endpoint)
                    fam[name] = {"limit": q.limit, "remaining": q.remaining, "reset": q.reset}
            resources[family] = fam
        return {"rate_limit_context": {"access_token": token}, "resources": resources}

    @staticmethod
    def _load_template() -> dict[str, dict[str, Any]]:
        try:
            resources = json.loads(RATE_LIMIT_TEMPLATE.read_text(encoding="utf-8"))["resources"]
        except (OSError, ValueError, KeyError):
            resources = {}
        for name, endpoint in RESOURCE_NAMES.items():  # make sure the served ones are listed
            family = endpoint.split("/")[0]
            resources.setdefault(family, {}).setdefault(name, {"limit": 15})
        return resources

    # -- /_emulator ---------------------------------------------------------------------------

    async def handle_index(self, request: web.Request) -> web.Response:
        return web.json_response({"emulator": "twitter v1.1 and v2", "dataset": self.api.dataset,
                                  "control": ["/_emulator/world", "/_emulator/truth", "/_emulator/log",
                                              "/_emulator/mutate", "/_emulator/quotas/reset",
                                              "/_emulator/usage", "/_emulator/bill",
                                              "/_emulator/billing",
                                              "/_emulator/media", "/_emulator/media/sha256"]})

    async def handle_world(self, request: web.Request) -> web.Response:
        media = self.media.describe() if self.media is not None else None
        return web.json_response({**self.api.summary(), "server": self.options, "media": media})

    async def handle_log(self, request: web.Request) -> web.Response:
        try:
            since = int(request.query.get("since", "0"))
        except ValueError:
            return web.json_response({"error": "since must be an integer"}, status=400)
        return web.json_response({"requests": self.log.since(since), "last_seq": self.log.seq})

    async def handle_quota_reset(self, request: web.Request) -> web.Response:
        self.quotas.reset()
        return web.json_response({"ok": True})

    async def handle_usage(self, request: web.Request) -> web.Response:
        return web.json_response(self.usage.describe())

    async def handle_usage_update(self, request: web.Request) -> web.Response:
        try:
            body = await request.json() if request.can_read_body else {}
            if not isinstance(body, dict):
                raise ValueError("expected a JSON object")
            self.usage.update(body)
        except ValueError as err:  # json.JSONDecodeError is one
            return web.json_response({"error": str(err)}, status=400)
        return web.json_response({"ok": True, **self.usage.describe()})

    def bill(self) -> dict[str, Any]:
        return {**self.billing.describe(), "credits": self.usage.describe()["credits"],
                "token_user_id": self.me_id(), "app_owner_id": self.app_owner}

    async def handle_bill(self, request: web.Request) -> web.Response:
        return web.json_response(self.bill())

    async def handle_billing_update(self, request: web.Request) -> web.Response:
        try:
            body = await request.json() if request.can_read_body else {}
            if not isinstance(body, dict):
                raise ValueError("expected a JSON object")
            self.billing.update(body)
        except ValueError as err:  # json.JSONDecodeError is one
            return web.json_response({"error": str(err)}, status=400)
        return web.json_response({"ok": True, **self.bill()})

    async def handle_mutate(self, request: web.Request) -> web.Response:
        world = getattr(self.api, "world", None)
        if world is None:
            return web.json_response({"error": "the recorded dataset cannot be mutated"}, status=400)
        try:
            body = await request.json() if request.can_read_body else {}
            allowed = {"new_tweets", "new_followers", "unfollows", "new_following_tweets",
                       "new_followings", "unfollowings"}
            unknown = set(body) - allowed
            if unknown:
                raise ValueError(f"unknown keys: {', '.join(sorted(unknown))}")
            changed = world.mutate(**{k: int(v) for k, v in body.items()})
        except (ValueError, TypeError) as err:
            return web.json_response({"error": str(err)}, status=400)
        return web.json_response({"ok": True, **changed, "world": world.summary()})

    async def handle_truth(self, request: web.Request) -> web.StreamResponse:
        from twitter_emulator.truth import parse_query, truth_items

        world = getattr(self.api, "world", None)
        if world is None:
            return web.json_response({"error": "ground truth exists only for the synthetic dataset"}, status=404)
        try:
            query = parse_query(world, dict(request.query), v2_source=bool(self.options.get("v2_source")))
        except ValueError as err:
            return web.json_response({"error": str(err)}, status=400)
        # Streamed in chunks: 100,000 followers never sit in memory as one document, and the
        # loop gets a turn between chunks.
        resp = web.StreamResponse(headers={"content-type": JSON_TYPE})
        await resp.prepare(request)
        await resp.write(b'{"items":[')
        chunk: list[bytes] = []
        first = True
        for item in truth_items(world, query):
            chunk.append(dumps(item))
            if len(chunk) >= 2000:
                await resp.write((b"" if first else b",") + self.rewrite(b",".join(chunk)))
                first = False
                chunk = []
        if chunk:
            await resp.write((b"" if first else b",") + self.rewrite(b",".join(chunk)))
        await resp.write(b"]}")
        await resp.write_eof()
        return resp
