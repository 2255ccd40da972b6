"""Per (access token, endpoint) request quotas with Twitter's fixed windows.

A bearer token (API v2, app-only) is its own context with its own limits (``app_limits``).

A window starts with the first request of an endpoint and token and lasts ``window`` seconds;
``x-rate-limit-reset`` is the epoch second at which it ends (rounded up, and the window really
ends then, so a client that waits until the advertised reset is never refused). The request
that finds the quota spent gets 429 code 88 and does not count.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

logger = logging.getLogger(__name__)

#: Twitter's documented user-auth limits per 15-minute window (TWITTER_API.md §1 and §2.1).
DEFAULT_LIMITS: dict[str, int] = {
    "users/show": 900,
    "users/lookup": 900,
    "followers/list": 15,
    "friends/list": 15,
    "followers/ids": 15,
    "friends/ids": 15,
    "statuses/user_timeline": 900,
    "application/rate_limit_status": 180,
    # API v2 (OAuth 1.0a user context). followers/following: 15 in the recorded headers; the
    # current docs table says 300 (``--quota users/followers=300``).
    "users/by/username": 900,
    "users/followers": 15,
    "users/following": 15,
    "users/tweets": 900,
    # 2026 (X_API_2026.md §3): /2/users/me 75 per user; /2/usage/tweets takes app-only bearer
    # tokens only (user context is refused before the quota: this limit only fills headers).
    "users/me": 75,
    "usage/tweets": 50,
}
#: The limits of requests made with an app-only bearer token (API v2 only here; TWITTER_API.md
#: §2.1: users/by/username 300, users/tweets 1,500 per app, as in the recorded headers).
DEFAULT_APP_LIMITS: dict[str, int] = {
    "users/by/username": 300,
    "users/followers": 15,
    "users/following": 15,
    "users/tweets": 1500,
    "usage/tweets": 50,  # 50 per app (X_API_2026.md §3); /2/users/me refuses app-only tokens
}
#: Endpoints with no documented limit here (unknown paths) still get headers.
FALLBACK_LIMIT = 15


@dataclass(frozen=True, slots=True)
class QuotaState:
    allowed: bool
    limit: int
    remaining: int
    reset: int  # epoch seconds

    def headers(self) -> dict[str, str]:
        return {
            "x-rate-limit-limit": str(self.limit),
            "x-rate-limit-remaining": str(self.remaining),
            "x-rate-limit-reset": str(self.reset),
        }


class QuotaBook:
    """Windows per (token, endpoint). Memory: one small entry per pair seen."""

    def __init__(
        self,
        limits: dict[str, int] | None = None,
        window: float = 900.0,
        enabled: bool = True,
        clock: Callable[[], float] = time.time,
        app_limits: dict[str, int] | None = None,
    ) -> None:
        self.limits = dict(DEFAULT_LIMITS if limits is None else limits)
        # App-only (bearer) requests have limits of their own; an endpoint without one there
        # uses the user-context limit.
        self.app_limits = dict(DEFAULT_APP_LIMITS if app_limits is None else app_limits)
        self.window = window
        self.enabled = enabled
        self.clock = clock
        self._buckets: dict[tuple[str, str], list[int]] = {}  # -> [reset, used]

    def limit(self, endpoint: str, app: bool = False) -> int:
        if app and endpoint in self.app_limits:
            return self.app_limits[endpoint]
        return self.limits.get(endpoint, FALLBACK_LIMIT)

    def _bucket(self, token: str, endpoint: str, now: float) -> list[int] | None:
        b = self._buckets.get((token, endpoint))
        if b is not None and now >= b[0]:
            del self._buckets[(token, endpoint)]
            return None
        return b

    def take(self, token: str, endpoint: str, app: bool = False) -> QuotaState:
        """Count one request; ``allowed`` is False (and nothing counted) when the quota is spent.

        ``token`` names the auth context (an access token, or an app's bearer token key);
        ``app`` picks the app-only limits."""
        now = self.clock()
        limit = self.limit(endpoint, app)
        if not self.enabled:
            return QuotaState(True, limit, limit, math.ceil(now + self.window))
        b = self._bucket(token, endpoint, now)
        if b is None:
            b = self._buckets[(token, endpoint)] = [math.ceil(now + self.window), 0]
        if b[1] >= limit:
            return QuotaState(False, limit, 0, b[0])
        b[1] += 1
        return QuotaState(True, limit, limit - b[1], b[0])

    def peek(self, token: str, endpoint: str, app: bool = False) -> QuotaState:
        """The state without counting (for answers that do not count, such as auth failures)."""
        now = self.clock()
        limit = self.limit(endpoint, app)
        b = self._bucket(token, endpoint, now) if self.enabled else None
        if b is None:
            return QuotaState(True, limit, limit, math.ceil(now + self.window))
        return QuotaState(b[1] < limit, limit, limit - b[1], b[0])

    def reset(self) -> None:
        self._buckets.clear()


def parse_override(spec: str) -> tuple[str, int]:
    """``ENDPOINT=N`` (``users/show=5``, ``/statuses/user_timeline=3``)."""
    name, sep, value = spec.partition("=")
    name = name.strip().strip("/").removesuffix(".json")
    if not sep or not name:
        raise ValueError(f"expected ENDPOINT=N, got {spec!r}")
    n = int(value)
    if n < 0:
        raise ValueError(f"quota for {name} must not be negative")
    return name, n
