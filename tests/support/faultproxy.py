"""A proxy in front of the emulator that fails chosen endpoints every time, for tests.

The emulator's own faults hit a share of all requests; a test that must show "this endpoint
keeps failing, it is retried a bounded number of times and given up, and the rest of the crawl
goes on" needs one endpoint that always fails and the others that never do.

``python -m tests.support.faultproxy --port 0 --upstream URL --rule friends/list=503``

Endpoints are named as the emulator's log names them: ``friends/list`` for
``/1.1/friends/list.json``, ``users/following`` for ``/2/users/:id/following``.

Rules (repeatable, ``ENDPOINT=ACTION``): ``500``/``502``/``503``/``504`` (answered here with
Twitter's error body, in v2's problem shape for a ``/2`` path), ``drop`` (connection closed without an answer), ``hang`` (no answer
until the client gives up: a timeout), ``truncate`` (forwarded, then the body cut short under the
full ``Content-Length``). Everything else is forwarded as it came, ``Host`` and
``Authorization`` included, so the OAuth signature made for the proxy's address verifies
upstream. Like the emulator, it prints its base URL as the first line of stdout, and keeps a log
of every request (``GET /_proxy/log``: time, endpoint, action, status).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import sys
import time
from typing import Any

from aiohttp import ClientSession, ClientTimeout, TCPConnector, web

from twitter_emulator.v2 import route as v2_route

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "upgrade",
              "proxy-connection", "te", "trailer"}
ERROR_BODIES = {
    500: b'{"errors":[{"code":131,"message":"Internal error"}]}',
    503: b'{"errors":[{"code":130,"message":"Over capacity"}]}',
}
V2_ERROR_BODIES = {
    500: b'{"title":"Internal Server Error","detail":"Internal Server Error","type":"about:blank","status":500}',
    503: b'{"title":"Service Unavailable","detail":"Service Unavailable","type":"about:blank","status":503}',
}


def endpoint_of(path: str) -> str:
    if path.startswith("/1.1/"):
        return path.removeprefix("/1.1/").removesuffix(".json")
    if path.startswith("/2/"):
        matched = v2_route(path.removeprefix("/2/"))
        return matched[0] if matched else ""
    return ""


class FaultProxy:
    def __init__(self, upstream: str, rules: dict[str, str]) -> None:
        self.upstream = upstream.rstrip("/")
        self.rules = rules
        self.log: list[dict[str, Any]] = []
        self.session: ClientSession | None = None

    def app(self) -> web.Application:
        app = web.Application(client_max_size=16 * 1024 * 1024)
        app.router.add_get("/_proxy/log", self.handle_log)
        app.router.add_route("*", "/{tail:.*}", self.handle)
        app.on_startup.append(self._start)
        app.on_cleanup.append(self._stop)
        return app

    async def _start(self, app: web.Application) -> None:
        self.session = ClientSession(connector=TCPConnector(limit=100), auto_decompress=False,
                                     timeout=ClientTimeout(total=120))

    async def _stop(self, app: web.Application) -> None:
        if self.session is not None:
            await self.session.close()

    async def handle_log(self, request: web.Request) -> web.Response:
        return web.json_response({"requests": self.log})

    def _entry(self, request: web.Request, endpoint: str, action: str) -> dict[str, Any]:
        entry = {"seq": len(self.log) + 1, "time": time.time(), "method": request.method,
                 "endpoint": endpoint, "path_qs": request.raw_path, "action": action, "status": None}
        self.log.append(entry)
        return entry

    async def handle(self, request: web.Request) -> web.StreamResponse:
        path = request.raw_path.partition("?")[0]
        endpoint = endpoint_of(path)
        action = self.rules.get(endpoint, "forward")
        entry = self._entry(request, endpoint, action)
        if action.isdigit():
            status = int(action)
            entry["status"] = status
            bodies = V2_ERROR_BODIES if path.startswith("/2/") else ERROR_BODIES
            body = bodies.get(status, b"<html><body><h1>Bad Gateway</h1></body></html>")
            ctype = "text/html"
            if status in bodies:
                ctype = "application/problem+json" if bodies is V2_ERROR_BODIES else "application/json;charset=utf-8"
            return web.Response(status=status, body=body, headers={"content-type": ctype})
        if action == "drop":
            if request.transport is not None:
                request.transport.close()
            return web.Response(status=204)  # never reaches the client
        if action == "hang":
            await asyncio.sleep(3600)
        assert self.session is not None
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP}
        body = await request.read()
        async with self.session.request(request.method, self.upstream + request.raw_path,
                                        headers=headers, data=body or None,
                                        allow_redirects=False) as upstream:
            payload = await upstream.read()
            status = upstream.status
            out_headers = {k: v for k, v in upstream.headers.items() if k.lower() not in HOP_BY_HOP}
        entry["status"] = status
        if action == "truncate" and len(payload) > 1:
            resp = web.StreamResponse(status=status, headers=out_headers)
            resp.content_length = len(payload)
            await resp.prepare(request)
            await resp.write(payload[: len(payload) // 2])
            if request.transport is not None:
                request.transport.close()
            return resp
        return web.Response(status=status, body=payload, headers=out_headers)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--upstream", required=True)
    parser.add_argument("--rule", action="append", default=[], metavar="ENDPOINT=ACTION")
    args = parser.parse_args(argv)
    rules = {}
    for rule in args.rule:
        name, _, action = rule.partition("=")
        rules[name.strip().strip("/").removesuffix(".json")] = action.strip()

    proxy = FaultProxy(args.upstream, rules)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((args.host, args.port))
    host, port = sock.getsockname()[:2]
    print(f"http://{host}:{port} {json.dumps(rules)}", flush=True)  # noqa: T201
    web.run_app(proxy.app(), sock=sock, print=None, handle_signals=True)


if __name__ == "__main__":
    main(sys.argv[1:])
