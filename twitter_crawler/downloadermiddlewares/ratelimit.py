"""Parks requests whose endpoint has spent its rate limit, without blocking anything else.

Twitter counts quotas per endpoint (``meta["twitter_endpoint"]``) and says where a window
stands in the ``x-rate-limit-limit/-remaining/-reset`` headers of every answer. This middleware
keeps a budget per endpoint from them and, in ``process_request``, lets a request through only
while its endpoint has budget left; otherwise the request waits (an ``await`` on the event loop:
no ``time.sleep``, no ``engine.pause``) until the window resets plus ``TWITTER_RATELIMIT_MARGIN``
seconds. Other endpoints keep going meanwhile. The OAuth middleware comes after this one, so a
released request is signed with a fresh timestamp and nonce.

* While an endpoint's budget is unknown (first request, new window), one probe goes out and the
  others wait for its headers; an endpoint that answers without headers is not limited.
* A 429 (code 88) zeroes the budget and sends the request back to be parked until the reset. A
  429 with budget left is Twitter's per-second limit: the request waits a second.
* A reset further away than ``TWITTER_RATELIMIT_MAX_WAIT`` seconds, or already past (clock skew),
  is clamped and logged.
* When the crawl is closing (Ctrl-C, a fatal error), parked requests are handed back to the
  scheduler, which keeps them in the JOBDIR queue: nothing waits 15 minutes to let Ctrl-C finish.

Settings read: ``TWITTER_RATELIMIT_ENABLED``, ``TWITTER_RATELIMIT_MARGIN``,
``TWITTER_RATELIMIT_MAX_WAIT``.

Stats: ``twitter/ratelimit/parked``, ``twitter/ratelimit/wait_seconds``,
``twitter/ratelimit/429``, ``twitter/ratelimit/handed_back``, ``twitter/ratelimit/clamped``,
``twitter/ratelimit/endpoint/<endpoint>/parked``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from scrapy.exceptions import NotConfigured
from scrapy.utils.asyncio import sleep

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from typing_extensions import Self

logger = logging.getLogger(__name__)

# How often a parked request looks at the clock and at the engine (closing?).
POLL = 0.25
DEFAULT_WINDOW = 900.0


@dataclass
class Budget:
    limit: int | None = None
    remaining: int | None = None  # None: unknown
    reset_at: float = 0.0
    limited: bool = True  # False once an answer came without rate-limit headers
    probing: bool = False
    parked: int = 0
    parked_since: float = 0.0
    announced: bool = False


def _fmt_wait(seconds: float) -> str:
    seconds = max(0, round(seconds))
    minutes, secs = divmod(seconds, 60)
    return f"{minutes}m {secs:02d}s" if minutes else f"{secs}s"


class RateLimitMiddleware:
    def __init__(self, crawler: Crawler, margin: float, max_wait: float) -> None:
        self.crawler = crawler
        self.margin = margin
        self.max_wait = max_wait
        self.budgets: dict[str, Budget] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        s = crawler.settings
        if not s.getbool("TWITTER_RATELIMIT_ENABLED"):
            raise NotConfigured
        margin = s.getfloat("TWITTER_RATELIMIT_MARGIN")
        max_wait = s.getfloat("TWITTER_RATELIMIT_MAX_WAIT")
        if margin < 0 or max_wait <= 0:
            raise NotConfigured(
                f"TWITTER_RATELIMIT_MARGIN ({margin!r}) must be 0 or more and "
                f"TWITTER_RATELIMIT_MAX_WAIT ({max_wait!r}) more than 0"
            )
        return cls(crawler, margin, max_wait)

    def _closing(self) -> bool:
        engine = self.crawler.engine
        slot = getattr(engine, "_slot", None)  # private in Scrapy 2.19; pinned by a test
        return not engine.running or bool(slot is not None and slot.closing)

    async def process_request(self, request: Request) -> Request | None:
        endpoint = request.meta.get("twitter_endpoint")
        if not endpoint:
            return None
        budget = self.budgets.setdefault(endpoint, Budget())
        parked_at: float | None = None
        while budget.limited:
            now = time.time()
            if budget.remaining is not None and budget.reset_at and now >= budget.reset_at:
                self._window_over(endpoint, budget)
            if budget.remaining is None:
                if not budget.probing:
                    budget.probing = True
                    request.meta["_twitter_probe"] = True
                    break
            elif budget.remaining > 0:
                budget.remaining -= 1
                break
            elif parked_at is None:
                parked_at = now
                self._park(endpoint, budget)
            if self._closing():
                if parked_at is not None:
                    budget.parked -= 1
                self.crawler.stats.inc_value("twitter/ratelimit/handed_back")
                return request.replace(dont_filter=True)
            await sleep(POLL)
        if parked_at is not None:
            budget.parked -= 1
        return None

    def _park(self, endpoint: str, budget: Budget) -> None:
        stats = self.crawler.stats
        stats.inc_value("twitter/ratelimit/parked")
        stats.inc_value(f"twitter/ratelimit/endpoint/{endpoint}/parked")
        budget.parked += 1
        if not budget.announced:
            budget.announced = True
            budget.parked_since = time.time()
            # A moment later, so the line counts the requests that park together.
            asyncio.get_event_loop().call_later(0.5, self._announce, endpoint, budget)

    def _announce(self, endpoint: str, budget: Budget) -> None:
        if not budget.announced:
            return
        until = datetime.fromtimestamp(budget.reset_at + self.margin, tz=timezone.utc)
        logger.info(
            "%(endpoint)s: rate limit reached, %(n)d request%(s)s wait until %(until)s UTC (%(wait)s)",
            {"endpoint": endpoint, "n": budget.parked, "s": "" if budget.parked == 1 else "s",
             "until": until.strftime("%H:%M:%S"),
             "wait": _fmt_wait(budget.reset_at + self.margin - time.time())},
        )

    def _window_over(self, endpoint: str, budget: Budget) -> None:
        if budget.reset_at + self.margin > time.time():
            return
        if budget.announced:
            waited = time.time() - budget.parked_since
            self.crawler.stats.inc_value("twitter/ratelimit/wait_seconds", round(waited, 1))
            logger.info("%(endpoint)s: rate limit window reset, %(n)d parked request%(s)s resume",
                        {"endpoint": endpoint, "n": budget.parked,
                         "s": "" if budget.parked == 1 else "s"})
            budget.announced = False
        budget.remaining = None
        budget.reset_at = 0.0

    def _reset_time(self, endpoint: str, value: str | None) -> float:
        now = time.time()
        try:
            reset = float(value) if value else now + DEFAULT_WINDOW
        except ValueError:
            reset = now + DEFAULT_WINDOW
        if reset - now > self.max_wait or reset < now - 5:
            clamped = min(max(reset, now + 1.0), now + self.max_wait)
            self.crawler.stats.inc_value("twitter/ratelimit/clamped")
            logger.warning(
                "%(endpoint)s: rate-limit reset %(reset)s is %(delta)+.0fs from now; using "
                "%(wait).0fs (is this machine's clock right?)",
                {"endpoint": endpoint, "reset": value, "delta": reset - now, "wait": clamped - now},
            )
            return clamped
        return reset

    async def process_response(self, request: Request, response: Response) -> Request | Response:
        endpoint = request.meta.get("twitter_endpoint")
        if not endpoint:
            return response
        budget = self.budgets.setdefault(endpoint, Budget())
        if request.meta.pop("_twitter_probe", False):
            budget.probing = False
        headers = response.headers
        remaining_h = headers.get(b"x-rate-limit-remaining")
        if remaining_h is None and response.status != 429:
            if budget.remaining is None:
                budget.limited = False
            return response
        budget.limited = True
        reset = self._reset_time(endpoint, (headers.get(b"x-rate-limit-reset") or b"").decode() or None)
        try:
            remaining = int(remaining_h) if remaining_h is not None else 0
        except ValueError:
            remaining = 0
        limit_h = headers.get(b"x-rate-limit-limit")
        if limit_h:
            budget.limit = int(limit_h)
        if budget.remaining is None or reset > budget.reset_at + 1:
            # A new window: the headers are the truth (minus requests already released).
            budget.remaining = remaining
            budget.reset_at = reset
        else:
            # Same window: answers come back out of order, trust the lowest count.
            budget.remaining = min(budget.remaining, remaining)
        if response.status == 429:
            self.crawler.stats.inc_value("twitter/ratelimit/429")
            retry = request.replace(dont_filter=True)
            if remaining > 0:
                # Budget left but refused: Twitter's hidden per-second limit.
                await sleep(1.0)
            else:
                budget.remaining = 0
                budget.reset_at = max(budget.reset_at, reset)
            logger.debug("%(endpoint)s: 429, request goes back to wait for the reset",
                         {"endpoint": endpoint})
            return retry
        return response

    def process_exception(self, request: Request, exception: Exception) -> None:
        endpoint = request.meta.get("twitter_endpoint")
        if endpoint and request.meta.pop("_twitter_probe", False):
            self.budgets.setdefault(endpoint, Budget()).probing = False
