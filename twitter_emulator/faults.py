"""Injected faults: 5xx answers, dropped connections, truncated bodies, latency.

Whether a request fails is a hash of (fault seed, method, path, sorted non-OAuth parameters,
attempt number of that same request), never a random draw in arrival order: the same crawl
meets the same faults whatever its concurrency, and the n-th retry of a request meets the same
fate in every run. A retry differs only by its attempt number, so it usually gets through.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field

logger = logging.getLogger(__name__)

FIVE_XX = "5xx"
DROP = "drop"
TRUNCATE = "truncate"

#: Twitter's error bodies for server errors (TWITTER_API.md §1.6); 502 is an HTML page, as the
#: load balancers sent, which a client must survive as a non-JSON body.
SERVER_ERRORS: tuple[tuple[int, str, bytes], ...] = (
    (500, "application/json; charset=utf-8", b'{"errors":[{"code":131,"message":"Internal error"}]}'),
    (503, "application/json; charset=utf-8", b'{"errors":[{"code":130,"message":"Over capacity"}]}'),
    (502, "text/html; charset=utf-8",
     b"<html><head><title>Twitter / Over capacity</title></head><body><h1>502 Bad Gateway</h1></body></html>"),
)


#: The same for /2 answers, in v2's problem shape (the 502 stays an HTML page).
V2_SERVER_ERRORS: tuple[tuple[int, str, bytes], ...] = (
    (500, "application/problem+json", b'{"title":"Internal Server Error","detail":"Internal Server Error",'
                                      b'"type":"about:blank","status":500}'),
    (503, "application/problem+json", b'{"title":"Service Unavailable","detail":"Service Unavailable",'
                                      b'"type":"about:blank","status":503}'),
    SERVER_ERRORS[2],
)


@dataclass
class FaultPlan:
    share_5xx: float = 0.0
    share_drop: float = 0.0
    share_truncate: float = 0.0
    latency: float = 0.0
    seed: int = 0
    _attempts: dict[bytes, int] = field(default_factory=dict)

    @property
    def active(self) -> bool:
        return self.share_5xx + self.share_drop + self.share_truncate > 0

    def _digest(self, method: str, path: str, params: list[tuple[str, str]], attempt: int | None = None) -> bytes:
        canon = "&".join(f"{k}={v}" for k, v in sorted(params))
        text = f"{self.seed}\n{method.upper()}\n{path}\n{canon}"
        if attempt is not None:
            text += f"\n{attempt}"
        return hashlib.blake2b(text.encode(), digest_size=16).digest()

    def decide(self, method: str, path: str, params: list[tuple[str, str]]) -> tuple[str | None, int]:
        """(fault name or None, a number that picks details such as the 5xx status)."""
        if not self.active:
            return None, 0
        key = self._digest(method, path, params)
        attempt = self._attempts.get(key, 0)
        self._attempts[key] = attempt + 1
        d = self._digest(method, path, params, attempt)
        u = int.from_bytes(d[:8], "big") / 2**64
        detail = int.from_bytes(d[8:], "big")
        if u < self.share_5xx:
            return FIVE_XX, detail
        u -= self.share_5xx
        if u < self.share_drop:
            return DROP, detail
        u -= self.share_drop
        if u < self.share_truncate:
            return TRUNCATE, detail
        return None, detail

    def server_error(self, detail: int, api: str = "1.1") -> tuple[int, str, bytes]:
        bodies = V2_SERVER_ERRORS if api == "2" else SERVER_ERRORS
        return bodies[detail % len(bodies)]

    @staticmethod
    def truncated_length(total: int, detail: int) -> int:
        """How much of a body a truncated response sends: at least 1 byte, never all of it."""
        if total <= 1:
            return 0
        return 1 + detail % (total - 1)

    def reset(self) -> None:
        self._attempts.clear()
