"""Parks requests whose endpoint has spent its rate limit, without blocking anything else.

Twitter counts quotas per token and endpoint (``meta["twitter_endpoint"]``) and says where a
window stands in the ``x-rate-limit-limit/-remaining/-reset`` headers of every answer. This
middleware keeps a budget per endpoint from them, in a store shared by every crawl of the token
(:mod:`twitter_crawler.budgets`: this process's crawlers, or with ``TWITTER_RATELIMIT_REDIS_URL``
every crawl that uses that Redis), and, in ``process_request``, lets a request through only
while its endpoint has budget left; otherwise the request waits (an ``await`` on the event loop:
no ``time.sleep``, no ``engine.pause``) until the window resets plus ``TWITTER_RATELIMIT_MARGIN``
seconds. Other endpoints keep going meanwhile. The OAuth middleware comes after this one, so a
released request is signed with a fresh timestamp and nonce.

* While an endpoint's budget is unknown (first request, new window), one probe goes out and the
  others (of every crawl of the token) wait for its headers; the probe holds a lease of
  ``TWITTER_RATELIMIT_PROBE_LEASE`` seconds, so a crawl that died with it cannot keep the
  endpoint. An endpoint that answers without headers is not limited.
* A shared store that cannot be reached (Redis down) stops the crawl with the close reason
  ``twitter_redis_unreachable`` and one ERROR line: going on with a budget of its own would
  over-spend what the other crawls share.
* A 429 (code 88) zeroes the budget and sends the request back to be parked until the reset. A
  429 with budget left is Twitter's per-second limit: the request waits a second. Repeated 429s
  of one endpoint (a reset that does not hold) wait longer each time (1 s, 2 s, 4 s, ... up to
  ``TWITTER_RATELIMIT_MAX_WAIT``), so a wrong reset can never turn into a stream of requests.
* Resets are read on the API's clock: when the answer's ``Date`` header is more than
  ``CLOCK_SKEW_TOLERANCE`` seconds away from this machine's clock, resets are shifted by the
  difference (logged once). A reset further away than ``TWITTER_RATELIMIT_MAX_WAIT`` seconds, or
  already past, is then clamped and logged.
* Answers that come back late from an earlier window never lower the budget of the current one.
* When the crawl is closing (Ctrl-C, a fatal error), parked requests are handed back to the
  scheduler, which keeps them in the JOBDIR queue: nothing waits 15 minutes to let Ctrl-C finish.
* A 429 is parked only when it is a rate limit: v1.1 code 88, the v2 problem types
  ``about:blank`` and ``rate-limit-exceeded``, or no readable problem at all. An answer that
  means "stop" (``api.problems.stop_problem``: a usage cap, whose 429 still shows budget in the
  headers; a 402; an unknown problem type on a 4xx) is never parked nor retried: it goes on to
  the error middleware, which closes the crawl, and from that moment no request goes out
  (:mod:`twitter_crawler.fatal`): requests that reach this middleware wait for the close and
  are handed back to the scheduler (a JOBDIR keeps them), and so are those the download handler
  refused to send (:class:`~twitter_crawler.exceptions.SendingStopped`).

Settings read: ``TWITTER_RATELIMIT_ENABLED``, ``TWITTER_RATELIMIT_MARGIN``,
``TWITTER_RATELIMIT_MAX_WAIT``, ``TWITTER_RATELIMIT_PROBE_LEASE``, ``TWITTER_RATELIMIT_REDIS_URL``.

Stats: ``twitter/ratelimit/stop`` (answers that mean "stop"), ``twitter/ratelimit/parked``,
``twitter/ratelimit/wait_seconds``, ``twitter/ratelimit/429``, ``twitter/ratelimit/handed_back``, ``twitter/ratelimit/clamped``,
``twitter/ratelimit/clock_skew``, ``twitter/ratelimit/redis_unreachable``,
``twitter/ratelimit/endpoint/<endpoint>/parked``,
``twitter/ratelimit/endpoint/<endpoint>/429``.

Log lines: ``followers/list: rate limit reached, 12 requests wait until 12:15:03 UTC (14m 58s)``
half a second after the first request parks (so it counts those that park together; a wait
shorter than that says nothing, and never a "resume" without its "reached"), then
``followers/list: rate limit window reset, 12 parked requests resume``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING

from scrapy import signals
from scrapy.exceptions import NotConfigured
from scrapy.utils.asyncio import call_later, sleep

from twitter_crawler.api import stop_problem_of
from twitter_crawler.budgets import (
    PROBE,
    PROBE_POLL,
    WAIT,
    Answer,
    Budgets,
    BudgetsUnreachable,
    open_budgets,
)
from twitter_crawler.closing import POLL, engine_closing
from twitter_crawler.exceptions import SendingStopped
from twitter_crawler.fatal import REDIS_UNREACHABLE, sending_stopped, stop_reason, stop_sending

if TYPE_CHECKING:
    from typing import Self

    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Response

logger = logging.getLogger(__name__)

DEFAULT_WINDOW = 900.0
#: A ``Date`` header this far (seconds) from the local clock means the clocks disagree.
CLOCK_SKEW_TOLERANCE = 30.0
#: A reset this far (seconds) in the past is not a reset but a clock problem.
PAST_TOLERANCE = 5.0


@dataclass
class Budget:
    """What this crawl alone knows of an endpoint: its parked requests and its log lines. The
    window itself is in the shared store (:mod:`twitter_crawler.budgets`)."""

    reset_at: float = 0.0  # the reset its parked requests wait for
    parked: int = 0
    parked_since: float = 0.0
    announced: bool = False  # a park is going on (its "reached" line is due or written)
    logged: bool = False  # its "reached" line was written, so its "resume" line is due
    strikes: int = 0  # 429s in a row


def _fmt_wait(seconds: float) -> str:
    seconds = max(0, round(seconds))
    minutes, secs = divmod(seconds, 60)
    return f"{minutes}m {secs:02d}s" if minutes else f"{secs}s"


class RateLimitMiddleware:
    def __init__(self, crawler: Crawler, margin: float, max_wait: float, shared: Budgets) -> None:
        self.crawler = crawler
        self.margin = margin
        self.max_wait = max_wait
        self.shared = shared
        self.budgets: dict[str, Budget] = {}
        self.skew = 0.0  # the API's clock minus ours, when they disagree
        self._unreachable = False
        self._closing_task: asyncio.Future[None] | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        s = crawler.settings
        if not s.getbool("TWITTER_RATELIMIT_ENABLED"):
            raise NotConfigured
        # Checked at start-up (twitter_crawler.settings.check): margin >= 0, max_wait > 0,
        # lease > 0, a redis:// URL or none.
        margin = s.getfloat("TWITTER_RATELIMIT_MARGIN")
        shared = open_budgets(s, margin, s.getfloat("TWITTER_RATELIMIT_PROBE_LEASE"))
        mw = cls(crawler, margin, s.getfloat("TWITTER_RATELIMIT_MAX_WAIT"), shared)
        crawler.signals.connect(mw.spider_closed, signal=signals.spider_closed)
        return mw

    async def spider_closed(self) -> None:
        await self.shared.close()

    def _closing(self) -> bool:
        return engine_closing(self.crawler)

    async def process_request(self, request: Request) -> Request | None:  # noqa: PLR0912
        endpoint = request.meta.get("twitter_endpoint")
        if not endpoint:
            return None
        budget = self.budgets.setdefault(endpoint, Budget())
        parked_at: float | None = None
        while True:
            if sending_stopped(self.crawler):
                break
            now = time.time()
            if budget.announced and now >= budget.reset_at + self.margin:
                self._window_over(endpoint, budget)
            try:
                take = await self.shared.take(endpoint, now)
            except BudgetsUnreachable as exc:
                self._lost_shared(exc)
                break
            if take.kind == PROBE:
                request.meta["_twitter_probe"] = take.probe_id
                break
            if take.kind != WAIT:
                break
            if take.spent:
                budget.reset_at = take.until - self.margin
                if parked_at is None:
                    parked_at = now
                    self._park(endpoint, budget)
            # Another request (maybe another crawl's) probes the window: look again soon.
            until = take.until if take.spent else min(take.until, now + PROBE_POLL)
            while (left := until - time.time()) > 0 and not self._closing():
                await sleep(min(POLL, left))
            if self._closing():
                if parked_at is not None:
                    budget.parked -= 1
                self.crawler.stats.inc_value("twitter/ratelimit/handed_back")
                return request.replace(dont_filter=True)
        if parked_at is not None:
            budget.parked -= 1
        if sending_stopped(self.crawler):
            probe_id = request.meta.pop("_twitter_probe", "")
            if probe_id:
                await self._release(endpoint, probe_id)
            return await self._hold(request)
        return None

    async def _release(self, endpoint: str, probe_id: str) -> None:
        try:
            await self.shared.release(endpoint, probe_id)
        except BudgetsUnreachable as exc:
            self._lost_shared(exc)

    def _lost_shared(self, exc: BudgetsUnreachable) -> None:
        """The shared budgets (Redis) cannot be reached: sending on without them would
        over-spend what other crawls share, so the crawl stops, with one ERROR line."""
        if self._unreachable:
            return
        self._unreachable = True
        self.crawler.stats.inc_value("twitter/ratelimit/redis_unreachable")
        logger.error(
            "The shared rate-limit budgets (%(where)s, TWITTER_RATELIMIT_REDIS_URL) cannot be "
            "reached (%(error)s): the crawl stops rather than send without them. Start Redis or "
            "correct the URL, then run the same command again (with a JOBDIR it resumes).",
            {"where": self.shared.describe(), "error": exc},
        )
        stop_sending(self.crawler, REDIS_UNREACHABLE)
        # Not awaited: closing waits for the requests in progress, this one among them.
        self._closing_task = asyncio.ensure_future(
            self.crawler.engine.close_spider_async(reason=REDIS_UNREACHABLE))

    async def _hold(self, request: Request) -> Request:
        """A fatal answer stopped the sending: the request waits for the close (which follows
        within moments), then goes back to the scheduler, so a JOBDIR keeps it. Handing it back
        at once would only make the engine hand it out again in a busy loop."""
        while not self._closing():
            await sleep(POLL)
        self.crawler.stats.inc_value("twitter/ratelimit/handed_back")
        return request.replace(dont_filter=True)

    def _park(self, endpoint: str, budget: Budget) -> None:
        stats = self.crawler.stats
        stats.inc_value("twitter/ratelimit/parked")
        stats.inc_value(f"twitter/ratelimit/endpoint/{endpoint}/parked")
        budget.parked += 1
        if not budget.announced:
            budget.announced = True
            budget.logged = False
            budget.parked_since = time.time()
            # A moment later, so the line counts the requests that park together.
            call_later(0.5, self._announce, endpoint, budget)

    def _announce(self, endpoint: str, budget: Budget) -> None:
        if not budget.announced or budget.logged:
            return
        budget.logged = True
        until = datetime.fromtimestamp(budget.reset_at + self.margin, tz=UTC)
        logger.info(
            "%(endpoint)s: rate limit reached, %(n)d request%(s)s wait until %(until)s UTC (%(wait)s)",
            {"endpoint": endpoint, "n": budget.parked, "s": "" if budget.parked == 1 else "s",
             "until": until.strftime("%H:%M:%S"),
             "wait": _fmt_wait(budget.reset_at + self.margin - time.time())},
        )

    def _window_over(self, endpoint: str, budget: Budget) -> None:
        waited = time.time() - budget.parked_since
        # Scrapy's stats add any number; its annotation says int.
        seconds = round(waited, 1)
        self.crawler.stats.inc_value("twitter/ratelimit/wait_seconds", seconds)  # type: ignore[arg-type]
        if budget.logged:
            logger.info("%(endpoint)s: rate limit window reset, %(n)d parked request%(s)s resume",
                        {"endpoint": endpoint, "n": budget.parked,
                         "s": "" if budget.parked == 1 else "s"})
        budget.announced = budget.logged = False

    def _note_clock(self, date: bytes | None) -> None:
        """Learns the API's clock from an answer's ``Date`` header (whole seconds)."""
        if not date:
            return
        try:
            server = parsedate_to_datetime(date.decode("latin-1")).timestamp()
        except (TypeError, ValueError, IndexError, OverflowError):
            return
        skew = server - time.time()
        if abs(skew) <= CLOCK_SKEW_TOLERANCE:
            skew = 0.0
        if (skew == 0.0) != (self.skew == 0.0) or abs(skew - self.skew) > CLOCK_SKEW_TOLERANCE:
            self.crawler.stats.set_value("twitter/ratelimit/clock_skew", round(skew))
            if skew:
                logger.warning(
                    "The API's clock is %(skew)+.0fs from this machine's clock: rate-limit resets "
                    "are read on the API's clock (is this machine's clock right?)",
                    {"skew": skew},
                )
            else:
                logger.info("The API's clock agrees with this machine's clock again")
        self.skew = skew

    def _reset_time(self, endpoint: str, value: str | None) -> float:
        now = time.time()
        try:
            reset = float(value) - self.skew if value else now + DEFAULT_WINDOW
        except ValueError:
            reset = now + DEFAULT_WINDOW
        nan = math.isnan(reset)
        if nan or reset - now > self.max_wait or reset < now - PAST_TOLERANCE:
            clamped = now + self.max_wait if nan else min(max(reset, now + 1.0), now + self.max_wait)
            self.crawler.stats.inc_value("twitter/ratelimit/clamped")
            logger.warning(
                "%(endpoint)s: rate-limit reset %(reset)s is %(delta)+.0fs from now; using "
                "%(wait).0fs (is this machine's clock right?)",
                {"endpoint": endpoint, "reset": value,
                 "delta": float("nan") if nan else reset - now, "wait": clamped - now},
            )
            return clamped
        return reset

    async def process_response(self, request: Request, response: Response) -> Request | Response:
        endpoint = request.meta.get("twitter_endpoint")
        if not endpoint:
            return response
        budget = self.budgets.setdefault(endpoint, Budget())
        probe_id = request.meta.pop("_twitter_probe", "")
        if response.status >= 400:
            problem = stop_problem_of(response.status, response.body)
            if problem is not None:
                # "Stop", not "wait": a usage cap's headers still show budget, and a retry would
                # be refused again (and counted) for days. Nothing more goes out from now; the
                # error middleware closes the crawl with the reason and X's title and detail.
                self.crawler.stats.inc_value("twitter/ratelimit/stop")
                stop_sending(self.crawler, stop_reason(problem))
                if probe_id:
                    await self._release(endpoint, probe_id)
                return response
        headers = response.headers
        if response.status != 429:
            budget.strikes = 0
        remaining_h = headers.get(b"x-rate-limit-remaining")
        if remaining_h is None and response.status != 429:
            await self._update(endpoint, Answer(response.status, limited=False), probe_id)
            return response
        self._note_clock(headers.get(b"Date"))
        reset_h = headers.get(b"x-rate-limit-reset")
        reset = self._reset_time(endpoint, reset_h.decode("latin-1") if reset_h else None)
        try:
            remaining = int(remaining_h) if remaining_h is not None else 0
        except ValueError:
            remaining = 0
        limit: int | None = None
        limit_h = headers.get(b"x-rate-limit-limit")
        if limit_h:
            with contextlib.suppress(ValueError):
                limit = int(limit_h)
        floor = 0.0
        backoff = 0.0
        if response.status == 429:
            budget.strikes += 1
            # A reset that held would have prevented this 429: each one in a row waits longer.
            backoff = min(self.max_wait, 2.0 ** (budget.strikes - 1))
            floor = time.time() + backoff - self.margin
        await self._update(endpoint, Answer(response.status, limited=True, remaining=remaining,
                                            reset=reset, limit=limit, floor=floor), probe_id)
        if response.status == 429:
            self.crawler.stats.inc_value("twitter/ratelimit/429")
            self.crawler.stats.inc_value(f"twitter/ratelimit/endpoint/{endpoint}/429")
            retry = request.replace(dont_filter=True)
            if remaining > 0:
                # Budget left but refused: Twitter's hidden per-second limit.
                await sleep(backoff)
            logger.debug("%(endpoint)s: 429, request goes back to wait for the reset",
                         {"endpoint": endpoint})
            return retry
        return response

    async def _update(self, endpoint: str, answer: Answer, probe_id: str) -> None:
        try:
            await self.shared.update(endpoint, time.time(), answer, probe_id)
        except BudgetsUnreachable as exc:
            self._lost_shared(exc)

    async def process_exception(self, request: Request, exception: Exception) -> Request | None:
        endpoint = request.meta.get("twitter_endpoint")
        probe_id = request.meta.pop("_twitter_probe", "") if endpoint else ""
        if endpoint and probe_id:
            await self._release(endpoint, probe_id)
        if isinstance(exception, SendingStopped):
            # Queued in a downloader slot when the fatal answer came, refused by the handler:
            # back to the scheduler like a parked request, so a JOBDIR keeps it.
            self.crawler.stats.inc_value("twitter/ratelimit/handed_back")
            return request.replace(dont_filter=True)
        return None
