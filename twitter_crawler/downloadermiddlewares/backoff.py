"""Exponential backoff before each retry, without blocking anything else.

Scrapy's RetryMiddleware sends a retry (of a 5xx, a timeout, a dropped connection, a truncated
body) back to the scheduler at once, and the scheduler hands it out again right away: three
retries of an API that is over capacity are spent within milliseconds. This middleware sits
after RetryMiddleware and before the rate-limit middleware: a request that carries
``retry_times`` = *n* (set by RetryMiddleware, or by ``get_retry_request`` for unreadable
bodies) first waits ``TWITTER_RETRY_BACKOFF_BASE * 2 ** (n - 1)`` seconds, at most
``TWITTER_RETRY_BACKOFF_MAX``, shortened by a random share of up to
``TWITTER_RETRY_BACKOFF_JITTER`` so retries that failed together do not come back together. The
wait is an ``await`` on the event loop: other requests go on meanwhile. How many retries there
are is still RetryMiddleware's ``RETRY_TIMES``.

A request waits once per attempt (``meta["twitter_backoff_done"]``), so one that comes back
through the middlewares for another reason (a 429 parked by the rate-limit middleware) does not
wait twice. When the crawl is closing, waiting requests are handed back to the scheduler (kept
in a JOBDIR queue) instead of holding the close up.

Settings: ``TWITTER_RETRY_BACKOFF_BASE`` (0 turns backoff off), ``TWITTER_RETRY_BACKOFF_MAX``,
``TWITTER_RETRY_BACKOFF_JITTER``. Stats: ``twitter/retry/backoff/count``,
``twitter/retry/backoff/seconds``, ``twitter/retry/backoff/handed_back``.
"""

from __future__ import annotations

import logging
import random
import time
from typing import TYPE_CHECKING

from scrapy.exceptions import NotConfigured
from scrapy.utils.asyncio import sleep

from twitter_crawler.closing import POLL, engine_closing

if TYPE_CHECKING:
    from typing import Self

    from scrapy import Request
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

DONE_KEY = "twitter_backoff_done"


class RetryBackoffMiddleware:
    def __init__(self, crawler: Crawler, base: float, maximum: float, jitter: float) -> None:
        self.crawler = crawler
        self.base = base
        self.maximum = maximum
        self.jitter = jitter
        self._random = random.Random()  # noqa: S311 (jitter of a wait, not a secret)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        s = crawler.settings
        base = s.getfloat("TWITTER_RETRY_BACKOFF_BASE")
        maximum = s.getfloat("TWITTER_RETRY_BACKOFF_MAX")
        jitter = s.getfloat("TWITTER_RETRY_BACKOFF_JITTER")
        # Checked at start-up (twitter_crawler.settings.check): base >= 0, maximum > 0, jitter
        # 0..1. A base of 0 is the documented way to turn the backoff off.
        if base == 0:
            raise NotConfigured
        return cls(crawler, base, maximum, jitter)

    def delay(self, attempt: int) -> float:
        """Seconds to wait before retry number ``attempt`` (1 for the first retry)."""
        wait = min(self.maximum, self.base * 2.0 ** max(0, attempt - 1))
        if self.jitter:
            wait *= 1.0 - self.jitter * self._random.random()
        return wait

    async def process_request(self, request: Request) -> Request | None:
        attempt = request.meta.get("retry_times", 0)
        if attempt <= 0 or request.meta.get(DONE_KEY, 0) >= attempt:
            return None
        wait = self.delay(attempt)
        stats = self.crawler.stats
        stats.inc_value("twitter/retry/backoff/count")
        # Scrapy's stats add any number; its annotation says int.
        stats.inc_value("twitter/retry/backoff/seconds", round(wait, 3))  # type: ignore[arg-type]
        logger.debug("Retry %(n)d of %(request)s waits %(wait).2fs",
                     {"n": attempt, "request": request, "wait": wait})
        deadline = time.monotonic() + wait
        while (left := deadline - time.monotonic()) > 0:
            if engine_closing(self.crawler):
                stats.inc_value("twitter/retry/backoff/handed_back")
                return request.replace(dont_filter=True)
            await sleep(min(POLL, left))
        request.meta[DONE_KEY] = attempt
        return None
