"""The cost meter: what each API answer costs as X bills it, and ``TWITTER_MAX_COST``.

X bills pay-per-use apps per resource an answer returns (X_API_2026.md §2). This middleware
sits just before the OAuth middleware, so it sees every attempt once on its way out (after the
rate-limit middleware released it) and every answer first on its way back (before a retry is
decided): each answer is metered, retries included, as X bills them.

* **What is billed** is the API contract's to say (:meth:`~twitter_crawler.api.TwitterApi.billable`,
  :meth:`~twitter_crawler.api.TwitterApi.billed_resources`); prices are
  :mod:`twitter_crawler.api.prices` (``TWITTER_PRICES``). Failed answers (4xx, 5xx, dropped
  connections) and empty ones cost nothing. v1.1 is not billed per resource (Enterprise): it is
  not metered.
* **Owned Reads**: the posts, followers and followings of the token's own user cost $0.001 when
  that user owns the app. Whose token it is is learned once, from ``GET /2/users/me``, before
  the first request that could be one is sent; with a bearer token (no user) or
  ``TWITTER_COST_OWNED_READS=False`` (a token another user granted) nothing is owned.
* **Daily deduplication**: a resource billed the same UTC day is free. The day's resources are
  kept in a :class:`~twitter_crawler.ledger.Ledger` (``TWITTER_COST_LEDGER_DIR``) across runs,
  written in a thread every few seconds and when the crawl closes.
* **includes**: X does not say whether expanded posts and users are billed; they are counted
  apart (not in the cost), once a day each, as the emulator's bill does.
* **TWITTER_MAX_COST**: a request goes out only if its worst case (``max_results`` resources at
  its price, the owned price where owned) fits in what is left, counting what the answers on
  their way may cost at worst. The first one that does not fit stops the sending
  (:mod:`twitter_crawler.fatal`), and the crawl closes with reason ``cost_limit``; the held
  requests are handed back to the scheduler, so a JOBDIR keeps them for a run with a higher
  limit.

Settings read: ``TWITTER_PRICES``, ``TWITTER_MAX_COST``, ``TWITTER_COST_LEDGER_DIR``,
``TWITTER_COST_OWNED_READS`` and the credentials (which kind of token; the ledger's key).

Stats: ``twitter/cost/usd``, ``twitter/cost/micro_usd`` (exact), ``twitter/cost/<kind>/count``
and ``twitter/cost/<kind>/usd`` (kind: ``posts``, ``users``, ``follows``, ``owned``),
``twitter/cost/free`` (resources billed earlier the same day), ``twitter/cost/includes/posts``,
``twitter/cost/includes/users``, ``twitter/cost/owned_account`` (whether the token's user owns
the imported account's reads), ``twitter/cost/limit_usd``, ``twitter/cost/held``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.utils.asyncio import create_looping_call, run_in_thread, sleep
from scrapy.utils.project import data_path

from twitter_crawler.api import from_settings
from twitter_crawler.api.prices import KINDS, MICRO, dollars, parse_prices, to_micro
from twitter_crawler.closing import POLL, engine_closing
from twitter_crawler.downloadermiddlewares.oauth import CREDENTIAL_SETTINGS, missing_credentials
from twitter_crawler.fatal import sending_stopped, stop_sending
from twitter_crawler.ledger import Key, Ledger, app_key

if TYPE_CHECKING:
    from typing import Self

    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Response

    from twitter_crawler.api import TwitterApi
    from twitter_crawler.api.prices import Billable

logger = logging.getLogger(__name__)

#: The close reason when the next request would not fit in ``TWITTER_MAX_COST``.
COST_LIMIT = "cost_limit"
#: Seconds between two writes of the day's new resources to the ledger.
LEDGER_FLUSH = 5.0
PROBE = "twitter_cost_endpoint"
RESERVED = "_twitter_cost_reserved"
OWNED = "_twitter_cost_owned"


def utc_day() -> str:
    return time.strftime("%Y-%m-%d", time.gmtime())


def usd(micro: int) -> float:
    return float(Decimal(micro) / MICRO)


class CostMiddleware:
    def __init__(
        self,
        crawler: Crawler,
        api: TwitterApi,
        prices: dict[str, int],
        *,
        max_cost: int | None,
        ledger: Ledger | None,
        owned_reads: bool,
    ) -> None:
        self.crawler = crawler
        self.api = api
        self.prices = prices
        self.max_cost = max_cost
        self.ledger = ledger
        self.owned_reads = owned_reads
        self.day = utc_day()
        self.seen: set[Key] = set()
        self.pending: list[Key] = []
        self.spent = 0
        self.reserved = 0  # the worst cost of the answers on their way
        self.counts = dict.fromkeys(KINDS, 0)
        self.micro = dict.fromkeys(KINDS, 0)
        self._owner: asyncio.Future[str | None] | None = None
        self._flusher: Any = None
        self._writing: asyncio.Future[None] | None = None
        self._stopped_by_cost = False
        self._closing_task: asyncio.Future[Any] | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        if getattr(crawler.spidercls, "offline", False):
            raise NotConfigured  # a spider that sends no API request (the archive import)
        s = crawler.settings
        api = from_settings(s)
        credentials = {name: s.get(name) or "" for name in CREDENTIAL_SETTINGS}
        user_context = not missing_credentials(credentials)
        credential = (credentials["TWITTER_CONSUMER_KEY"] if user_context
                      else s.get("TWITTER_BEARER_TOKEN"))
        # One ledger per app and API: X (or an emulator at another address) bills apart.
        app = f"{s.get('TWITTER_API_URL')}\0{credential}" if credential else ""
        # Checked at start-up (twitter_crawler.settings.check): a normalised price list, a
        # number of USD or empty, a path or empty, a bool.
        limit = s.get("TWITTER_MAX_COST")
        directory = s.get("TWITTER_COST_LEDGER_DIR")
        ledger = Ledger(Path(data_path(directory)), app_key(app)) if directory and app else None
        mw = cls(
            crawler, api, parse_prices(s.get("TWITTER_PRICES") or ""),
            max_cost=to_micro(limit) if limit not in (None, "") else None,
            ledger=ledger,
            owned_reads=user_context and s.getbool("TWITTER_COST_OWNED_READS"),
        )
        crawler.signals.connect(mw.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(mw.spider_closed, signal=signals.spider_closed)
        return mw

    # -- the crawl's start and end -------------------------------------------------------------

    async def spider_opened(self) -> None:
        stats = self.crawler.stats
        if not self.api.billed_per_resource:
            stats.set_value("twitter/cost/unbilled_version", self.api.version)
            if self.max_cost is not None:
                logger.warning(
                    "TWITTER_MAX_COST has no effect on API %(version)s: X does not bill its "
                    "reads per resource (Enterprise), so the crawl cannot measure them",
                    {"version": self.api.version})
            return
        self._publish()
        if self.max_cost is not None:
            stats.set_value("twitter/cost/limit_usd", usd(self.max_cost))
        if self.ledger is not None:
            self.seen = await run_in_thread(self.ledger.load, self.day)
            self._flusher = create_looping_call(self._flush_soon)
            self._flusher.start(LEDGER_FLUSH, now=False)

    async def spider_closed(self, reason: str) -> None:
        if self._flusher is not None and self._flusher.running:
            self._flusher.stop()
        if self._writing is not None:
            await self._writing
        await self._flush()
        if reason == COST_LIMIT and self.max_cost is not None:
            self._limit_line()

    def _flush_soon(self) -> None:
        # The looping call wants a plain function: the write runs as a task of its own, one at
        # a time (a slow disk must not interleave two appends).
        if self._writing is None or self._writing.done():
            self._writing = asyncio.ensure_future(self._flush())

    async def _flush(self) -> None:
        if self.ledger is None or not self.pending:
            return
        keys, self.pending = self.pending, []
        await run_in_thread(self.ledger.append, self.day, keys)

    # -- requests ------------------------------------------------------------------------------

    def _billable(self, request: Request) -> Billable | None:
        endpoint = request.meta.get("twitter_endpoint") or request.meta.get(PROBE)
        if not endpoint or not self.api.billed_per_resource:
            return None
        return self.api.billable(endpoint, request.url)

    async def process_request(self, request: Request) -> Request | None:
        billable = self._billable(request)
        if billable is None:
            return None
        probe = PROBE in request.meta
        if sending_stopped(self.crawler):
            if probe:
                raise IgnoreRequest("the crawl stopped sending")
            return await self._hold(request)
        owned = billable.subject is not None and await self._is_owner(billable.subject)
        request.meta[OWNED] = owned
        if self.max_cost is None:
            return None
        worst = billable.most * self.prices["owned" if owned else billable.kind]
        if self.spent + self.reserved + worst > self.max_cost:
            self._stop(billable, worst)
            if probe:
                raise IgnoreRequest("over TWITTER_MAX_COST")
            return await self._hold(request)
        self.reserved += worst
        request.meta[RESERVED] = worst
        return None

    def _release(self, request: Request) -> None:
        self.reserved -= request.meta.pop(RESERVED, 0)

    def _stop(self, billable: Billable, worst: int) -> None:
        if self._stopped_by_cost:
            return
        self._stopped_by_cost = True
        self.crawler.stats.set_value("twitter/cost/next_request_usd", usd(worst))
        logger.info(
            "TWITTER_MAX_COST %(limit)s: the next request (%(endpoint)s, up to %(worst)s) does "
            "not fit in what is left (%(spent)s spent, up to %(reserved)s on its way): no more "
            "requests are sent",
            {"limit": dollars(self.max_cost or 0), "endpoint": billable.endpoint,
             "worst": dollars(worst), "spent": dollars(self.spent),
             "reserved": dollars(self.reserved)})
        stop_sending(self.crawler, COST_LIMIT)
        # Not awaited: closing waits for the requests in progress, this one among them.
        self._closing_task = asyncio.ensure_future(
            self.crawler.engine.close_spider_async(reason=COST_LIMIT))

    async def _hold(self, request: Request) -> Request:
        """As the rate-limit middleware holds a request once the sending stopped: it waits for
        the close, then goes back to the scheduler (a JOBDIR keeps it)."""
        while not engine_closing(self.crawler):
            await sleep(POLL)
        self.crawler.stats.inc_value("twitter/cost/held")
        return request.replace(dont_filter=True)

    # -- Owned Reads ---------------------------------------------------------------------------

    async def _is_owner(self, subject: str) -> bool:
        if not self.owned_reads:
            return False
        if self._owner is None:
            self._owner = asyncio.ensure_future(self._token_user())
        owner = await asyncio.shield(self._owner)
        return owner == subject

    async def _token_user(self) -> str | None:
        """The id of the token's user, from ``GET /2/users/me``; None when it cannot be had
        (nothing is then counted as owned: the meter may count too much, never too little)."""
        request = self.api.token_user()
        if request is None:
            return None
        try:
            response = await self.crawler.engine.download_async(request)
        except Exception as exc:  # noqa: BLE001 (any failure means the same: owner unknown)
            logger.warning("Could not learn whose token this is (%(error)s): no read is "
                           "counted as an Owned Read", {"error": exc.__class__.__name__})
            return None
        owner = self.api.parse_token_user(response.body) if response.status == 200 else None
        if owner is None:
            logger.warning("Could not learn whose token this is (/2/users/me: HTTP %(status)s): "
                           "no read is counted as an Owned Read", {"status": response.status})
        else:
            logger.info("The token is user %(id)s's: reads of that account's tweets, followers "
                        "and followings are Owned Reads", {"id": owner})
        return owner

    # -- answers -------------------------------------------------------------------------------

    def process_response(self, request: Request, response: Response) -> Response:
        self._release(request)
        billable = self._billable(request)
        if billable is not None and 200 <= response.status < 300:
            self._meter(billable, bool(request.meta.get(OWNED)), response.body)
        return response

    def process_exception(self, request: Request, exception: Exception) -> None:
        # A failed request is not billed; what it reserved is free again.
        self._release(request)

    def _roll(self) -> None:
        day = utc_day()
        if day != self.day:
            # A new UTC day: what was billed yesterday is billed again; the ledger's file of
            # yesterday is left to be removed by the next run.
            self.pending = []
            self.seen = set()
            self.day = day

    def _meter(self, billable: Billable, owned: bool, body: bytes) -> None:
        self._roll()
        found = self.api.billed_resources(billable, body)
        kind = "owned" if owned and billable.subject is not None else billable.kind
        stats = self.crawler.stats
        free = 0
        for ident in found.ids:
            key = (billable.resource, ident)
            if key in self.seen:
                free += 1
                continue
            self.seen.add(key)
            self.pending.append(key)
            self.counts[kind] += 1
            self.micro[kind] += self.prices[kind]
        if billable.subject is not None and owned:
            stats.set_value("twitter/cost/owned_account", True)
        for resource, ids in found.included.items():
            for ident in ids:
                key = (resource, ident)
                mark = ("+" + resource, ident)
                if key in self.seen or mark in self.seen:
                    continue
                self.seen.add(mark)
                self.pending.append(mark)
                stats.inc_value(f"twitter/cost/includes/{resource}s")
        if free:
            stats.inc_value("twitter/cost/free", free)
        self._publish()

    def _publish(self) -> None:
        stats = self.crawler.stats
        self.spent = sum(self.micro.values())
        stats.set_value("twitter/cost/micro_usd", self.spent)
        stats.set_value("twitter/cost/usd", usd(self.spent))
        for kind in KINDS:
            stats.set_value(f"twitter/cost/{kind}/count", self.counts[kind])
            stats.set_value(f"twitter/cost/{kind}/usd", usd(self.micro[kind]))

    def _limit_line(self) -> None:
        stats = self.crawler.stats
        stored = {kind: stats.get_value(f"twitter/store/created/{kind}", 0)
                  + stats.get_value(f"twitter/store/updated/{kind}", 0)
                  + stats.get_value(f"twitter/store/unchanged/{kind}", 0)
                  for kind in ("Account", "Tweet")}
        held = (stats.get_value("twitter/cost/held", 0)
                + stats.get_value("twitter/ratelimit/handed_back", 0))
        logger.error(
            "TWITTER_MAX_COST %(limit)s reached: %(spent)s spent, %(accounts)s accounts and "
            "%(tweets)s tweets imported; %(held)s requests not sent (the next one alone could "
            "cost %(next)s). Run again with a higher TWITTER_MAX_COST to go on: with the same "
            "JOBDIR it resumes where it stopped, and nothing read today is paid again.",
            {"limit": dollars(self.max_cost or 0), "spent": dollars(self.spent),
             "accounts": f"{stored['Account']:,}", "tweets": f"{stored['Tweet']:,}",
             "held": f"{held:,}",
             "next": dollars(to_micro(stats.get_value("twitter/cost/next_request_usd", 0)))})
