"""Rate-limit budgets: where the window of each (token, endpoint) is kept, so that every crawl
that uses a token sees what the others spent.

Twitter counts quotas per token and endpoint, not per process. A crawl that keeps its own
picture of a window over-sends as soon as a second crawl uses the same token, and meets 429s.
The rate-limit middleware (:mod:`twitter_crawler.downloadermiddlewares.ratelimit`) therefore asks
a :class:`Budgets` store, shared by every crawl of the token, before each request:

* :class:`~twitter_crawler.budgets.memory.MemoryBudgets` (the default): one store per token in
  this process, shared by all the crawlers it runs (``CrawlerProcess`` with several crawls);
* :class:`~twitter_crawler.budgets.redisstore.RedisBudgets` when ``TWITTER_RATELIMIT_REDIS_URL``
  is set: the windows live in Redis, shared by crawls in other processes and on other machines.

Both keep, per (token, endpoint): whether the endpoint is limited at all, the remaining requests
of the current window and its reset, and the *probe lease*: while nothing is known of a window
(the first request, or a window that has just reset), one request goes out alone to learn the
window from its answer's headers, and the others wait for it. The lease expires
(``TWITTER_RATELIMIT_PROBE_LEASE``), so a crawl that dies with a probe in flight (``kill -9``)
holds the endpoint up for that long only.

Times are epoch seconds of this machine's clock (already shifted by the API's clock skew when
the API's ``Date`` says the clocks disagree); machines that share a Redis should keep their
clocks in step (NTP), as they do for anything time-based.

Tokens are never kept: a store is named by :func:`budget_scope`, a SHA-256 prefix of the API's
origin and the credential that the quotas count (the access token, or the bearer token).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from scrapy.settings import BaseSettings

#: A :class:`Take` that lets the request go.
GO = "go"
#: A :class:`Take` that lets the request go as the window's probe (``probe_id`` names the lease).
PROBE = "probe"
#: A :class:`Take` that says to ask again at ``until``: the window is spent (``spent``) or
#: another request is probing it.
WAIT = "wait"

#: Seconds between two looks at a window that another request is probing: its answer usually
#: takes a fraction of a second, and every waiting request is released by it.
PROBE_POLL = 0.05
#: How long (seconds) the store remembers that an endpoint answers without rate-limit headers.
UNLIMITED_TTL = 900.0


class BudgetsUnreachable(Exception):
    """The shared store (Redis) cannot be reached; ``str()`` never holds a password."""


@dataclass(frozen=True, slots=True)
class Take:
    kind: str  # GO, PROBE or WAIT
    until: float = 0.0  # WAIT: when to ask again
    spent: bool = False  # WAIT: the window is spent until ``until`` (not merely being probed)
    probe_id: str = ""  # PROBE: the lease, to give back with the answer


@dataclass(frozen=True, slots=True)
class Answer:
    """What an answer says of its endpoint's window, read by the middleware from its headers."""

    status: int
    limited: bool  # False: no rate-limit headers (and not a 429)
    remaining: int = 0
    reset: float = 0.0  # epoch seconds, this machine's clock
    limit: int | None = None
    #: A 429 with nothing left: the window stays spent at least until then (backoff of 429s
    #: in a row, so a reset that does not hold never turns into a stream of requests).
    floor: float = 0.0


@dataclass(frozen=True, slots=True)
class Window:
    """A snapshot of one window, for the log and the tests."""

    limited: bool = True
    remaining: int | None = None
    reset_at: float = 0.0
    limit: int | None = None
    probing: bool = False


class Budgets(Protocol):
    """The windows of one token's endpoints. ``now`` is passed in (the middleware's clock)."""

    async def take(self, endpoint: str, now: float) -> Take:
        """One request of ``endpoint``: spend one unit of the current window, or become the
        window's probe, or wait."""

    async def update(self, endpoint: str, now: float, answer: Answer, probe_id: str = "") -> Window:
        """Learn the window from an answer; give back the probe lease ``probe_id`` if it is held."""

    async def release(self, endpoint: str, probe_id: str) -> None:
        """Give back a probe lease without an answer (the request failed or was dropped)."""

    async def window(self, endpoint: str) -> Window:
        """The window as the store sees it (for tests and logs)."""

    async def close(self) -> None:
        """Free what the store holds (connections); the windows stay for the other crawls."""

    def describe(self) -> str:
        """Where the budgets are kept, for the log: never a password."""


def budget_scope(settings: BaseSettings) -> str:
    """The name of a token's budgets: a SHA-256 prefix of the API's origin and the credential
    the quotas count. User context (OAuth 1.0a) is counted per app and user (consumer key and
    access token); app-only auth (v2) per bearer token. Crawls against other APIs (another
    emulator) never share budgets."""
    parts = urlsplit(settings.get("TWITTER_API_URL") or "")
    origin = f"{parts.scheme}://{parts.netloc}"
    token = settings.get("TWITTER_ACCESS_TOKEN") or ""
    if token:
        credential = ("user", settings.get("TWITTER_CONSUMER_KEY") or "", token)
    else:
        credential = ("app", settings.get("TWITTER_BEARER_TOKEN") or "", "")
    digest = hashlib.sha256("\0".join((origin, *credential)).encode()).hexdigest()
    return digest[:32]


def open_budgets(settings: BaseSettings, margin: float, lease: float) -> Budgets:
    """The budgets of the crawl's token: in Redis when ``TWITTER_RATELIMIT_REDIS_URL`` is set,
    else in this process."""
    scope = budget_scope(settings)
    url = settings.get("TWITTER_RATELIMIT_REDIS_URL") or ""
    if url:
        from twitter_crawler.budgets.redisstore import RedisBudgets

        return RedisBudgets(url, scope, margin=margin, lease=lease)
    from twitter_crawler.budgets.memory import shared_budgets

    return shared_budgets(scope, margin=margin, lease=lease)
