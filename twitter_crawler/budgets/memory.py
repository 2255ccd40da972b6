"""Budgets kept in this process, shared by every crawler it runs with the same token.

:data:`REGISTRY` maps a token's scope (:func:`~twitter_crawler.budgets.budget_scope`, a hash:
never the token) to the windows of its endpoints. It lives as long as the process, which is the
point: two crawls of one ``CrawlerProcess`` on one token spend one budget, as Twitter counts it.
It holds a few numbers per endpoint and token, so it is never trimmed. Everything runs on the
reactor's thread, between two ``await``: no lock is needed.

The rules are those of the Redis store's Lua scripts
(:mod:`twitter_crawler.budgets.redisstore`), which the same unit tests check.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from twitter_crawler.budgets import GO, PROBE, WAIT, Answer, Take, Window

#: Slack (seconds) when an answer's reset is compared with the window's: resets are whole
#: seconds and answers of one window may say neighbouring ones.
SAME_WINDOW = 1.0


@dataclass
class State:
    limited: bool = True
    limit: int | None = None
    remaining: int | None = None  # None: unknown (only a probe may go)
    reset_at: float = 0.0
    probe_id: str = ""
    probe_until: float = 0.0


#: scope -> endpoint -> state. See the module's docstring.
REGISTRY: dict[str, dict[str, State]] = {}
_ids = itertools.count(1)


def shared_budgets(scope: str, *, margin: float, lease: float) -> MemoryBudgets:
    return MemoryBudgets(REGISTRY.setdefault(scope, {}), margin=margin, lease=lease)


class MemoryBudgets:
    """One crawler's view of its token's windows (its own margin and lease, shared windows)."""

    def __init__(self, windows: dict[str, State], *, margin: float, lease: float) -> None:
        self.windows = windows
        self.margin = margin
        self.lease = lease

    def _state(self, endpoint: str) -> State:
        return self.windows.setdefault(endpoint, State())

    async def take(self, endpoint: str, now: float) -> Take:
        s = self._state(endpoint)
        if not s.limited:
            return Take(GO)
        if s.remaining is not None and s.reset_at and now >= s.reset_at + self.margin:
            # The window is over: the next one is unknown until a probe's answer says.
            s.remaining, s.reset_at = None, 0.0
        if s.remaining is None:
            if s.probe_id and s.probe_until > now:
                return Take(WAIT, until=s.probe_until)
            s.probe_id, s.probe_until = f"m{next(_ids)}", now + self.lease
            return Take(PROBE, probe_id=s.probe_id)
        if s.remaining > 0:
            s.remaining -= 1
            return Take(GO)
        return Take(WAIT, until=s.reset_at + self.margin, spent=True)

    async def update(self, endpoint: str, now: float, answer: Answer, probe_id: str = "") -> Window:
        s = self._state(endpoint)
        if probe_id and s.probe_id == probe_id:
            s.probe_id, s.probe_until = "", 0.0
        if not answer.limited:
            if s.remaining is None:
                s.limited = False
            return self._window(s)
        s.limited = True
        if answer.limit is not None:
            s.limit = answer.limit
        if s.remaining is None or answer.reset > s.reset_at + SAME_WINDOW:
            # A new window: the headers are the truth (while a window is unknown only its
            # probe goes out, here and in every other crawl of the token).
            s.remaining, s.reset_at = answer.remaining, answer.reset
        elif answer.reset < s.reset_at - SAME_WINDOW:
            pass  # a late answer from an earlier window says nothing about this one
        else:
            # Same window: answers come back out of order, trust the lowest count.
            s.remaining = min(s.remaining, answer.remaining)
        if answer.status == 429 and answer.remaining <= 0:
            s.remaining = 0
            s.reset_at = max(s.reset_at, answer.reset, answer.floor)
        return self._window(s)

    async def release(self, endpoint: str, probe_id: str) -> None:
        s = self._state(endpoint)
        if probe_id and s.probe_id == probe_id:
            s.probe_id, s.probe_until = "", 0.0

    async def window(self, endpoint: str) -> Window:
        return self._window(self._state(endpoint))

    @staticmethod
    def _window(s: State) -> Window:
        return Window(limited=s.limited, remaining=s.remaining, reset_at=s.reset_at, limit=s.limit,
                      probing=bool(s.probe_id))

    async def close(self) -> None:
        return None

    def describe(self) -> str:
        return "this process"
