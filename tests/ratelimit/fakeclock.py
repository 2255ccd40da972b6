"""A clock for unit tests of the waiting middlewares: ``sleep`` advances it instead of waiting,
timers set with ``call_later`` fire when it passes them, and every ``sleep`` still yields to the
event loop, so concurrent requests interleave as they would for real."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from scrapy import Request
from scrapy.http import Response
from scrapy.utils.misc import build_from_crawler
from scrapy.utils.test import get_crawler

from twitter_crawler.settings import defaults

NOW = 1_700_000_000.0  # 2023-11-14 22:13:20 UTC


class FakeClock:
    def __init__(self, now: float = NOW) -> None:
        self.now = now
        self.timers: list[tuple[float, Callable[..., Any], tuple[Any, ...]]] = []
        self.slept: list[float] = []

    def time(self) -> float:
        return self.now

    monotonic = time

    def call_later(self, delay: float, func: Callable[..., Any], *args: Any) -> None:
        self.timers.append((self.now + delay, func, args))

    def advance(self, seconds: float) -> None:
        self.now += seconds
        due = [t for t in self.timers if t[0] <= self.now]
        self.timers = [t for t in self.timers if t[0] > self.now]
        for _, func, args in due:
            func(*args)

    async def sleep(self, seconds: float) -> None:
        # Sleepers that start together wake together: the clock moves to the deadline only
        # after every other ready task has had its turn.
        self.slept.append(seconds)
        deadline = self.now + seconds
        await asyncio.sleep(0)
        if deadline > self.now:
            self.advance(deadline - self.now)


def project_settings(**overrides: Any) -> dict[str, Any]:
    """The project's own settings at their defaults (``get_crawler`` has Scrapy's only)."""
    values = {n: getattr(defaults, n) for n in dir(defaults) if n.startswith(("TWITTER_", "POD_"))}
    return {**values, **overrides}


def build(cls: type, monkeypatch: Any, clock: FakeClock, *modules: Any, **settings: Any) -> Any:
    crawler = get_crawler(settings_dict=project_settings(**settings))
    for module in modules:
        monkeypatch.setattr(module, "time", clock)
        monkeypatch.setattr(module, "sleep", clock.sleep)
        if hasattr(module, "call_later"):
            monkeypatch.setattr(module, "call_later", clock.call_later)
    return build_from_crawler(cls, crawler)


def api_request(endpoint: str = "followers/list", n: int = 0, **meta: Any) -> Request:
    return Request(f"https://api.twitter.com/1.1/{endpoint}.json?cursor={n}",
                   meta={"twitter_endpoint": endpoint, "download_slot": endpoint, **meta})


def answer(request: Request, status: int = 200, remaining: int | None = None,
           reset: float | str | None = None, limit: int = 15, date: str | None = None) -> Response:
    headers: dict[str, str] = {}
    if remaining is not None:
        headers["x-rate-limit-limit"] = str(limit)
        headers["x-rate-limit-remaining"] = str(remaining)
    if reset is not None:
        headers["x-rate-limit-reset"] = str(int(reset)) if isinstance(reset, float) else str(reset)
    if date is not None:
        headers["Date"] = date
    return Response(request.url, status=status, headers=headers, request=request)
