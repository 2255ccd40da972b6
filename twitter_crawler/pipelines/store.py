"""Writes every item and edge to the store named by ``POD_URL``, in batches, off the reactor.

Items are buffered in the order the crawl produced them and written in batches of
``POD_BATCH_SIZE`` (or every ``POD_BATCH_SECONDS``; the items of one API answer are never split,
so a batch can be larger by one answer), one batch at a time, in a worker thread.
Each batch is atomic in the store. A batch the store refuses is retried ``POD_RETRY_TIMES``
times with exponential backoff from ``POD_RETRY_BACKOFF`` seconds; then nothing more is written
and the crawl closes with ``pod_unavailable``: since watermarks travel in the same stream, a
rerun fetches again whatever was not stored.

Opening the store (with the same retries) also reads its timeline watermarks, which are handed to
:class:`~twitter_crawler.spidermiddlewares.watermarks.WatermarkMiddleware` with the
``watermarks_loaded`` signal, and its contacts state (when each followers/followings list was
last read in full, and the stored edges), handed to the spider with the ``contacts_loaded``
signal, both before the first request. A store that cannot be opened or read
closes the crawl with ``pod_unavailable`` (``pod_config_error`` when it cannot be used at all).

Returns each public item as a plain dict (no ``None`` values, ``type`` first), which is what
feed exports write; an :class:`~twitter_crawler.items.Answer` keeps only those. The internal
items are left out here, after they were queued for the store. The packed run of a
:class:`~twitter_crawler.items.PackedAnswer` goes to the store as it is, undecoded.

Settings read: ``POD_URL``, ``POD_OWNER_KEY``, ``POD_DATABASE_KEY``, ``POD_AUTH_JSON`` (inside
the Pod: its PluginAuth, in place of the database key), ``POD_BATCH_SIZE`` (for the archive
import, ``POD_ARCHIVE_BATCH_SIZE``),
``POD_BATCH_SECONDS``, ``POD_RETRY_TIMES``, ``POD_RETRY_BACKOFF``.

Stats: ``twitter/store/created/<type>``, ``twitter/store/updated/<type>``,
``twitter/store/unchanged/<type>``, ``twitter/store/edges_created/<name>``,
``twitter/store/edges_removed/<name>``, ``twitter/store/batches``, ``twitter/store/retries``,
``twitter/store/failed_batches``, ``twitter/store/where``.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import TYPE_CHECKING, Any

from scrapy.exceptions import CloseSpider, DropItem
from scrapy.utils.asyncio import run_in_thread

from twitter_crawler.items import (
    Answer,
    ContactsPage,
    PackedAnswer,
    TimelineWatermark,
    to_dict,
    unpack,
)
from twitter_crawler.spidermiddlewares.watermarks import watermarks_loaded
from twitter_crawler.spiders.contacts import contacts_loaded
from twitter_crawler.stores.base import Batch, StoreConfigError, StoreError, WriteResult, open_store

if TYPE_CHECKING:
    from typing import Self

    from scrapy.crawler import Crawler

    from twitter_crawler.stores.base import Store

logger = logging.getLogger(__name__)

#: Sent once the store is open and its watermarks are handed over, with ``store``: the open
#: :class:`~twitter_crawler.stores.base.Store`, for components that keep things in it too (media
#: files). Its methods block: call them in a thread.
store_opened = object()


class StorePipeline:
    def __init__(
        self,
        crawler: Crawler,
        url: str,
        owner_key: str,
        database_key: str,
        batch_size: int,
        batch_seconds: float,
        retry_times: int,
        retry_backoff: float,
        *,
        auth_json: str = "",
    ) -> None:
        self.crawler = crawler
        self.url = url
        self._keys = (owner_key, database_key)
        self._auth_json = auth_json
        self.batch_size = batch_size
        self.batch_seconds = batch_seconds
        self.retry_times = retry_times
        self.retry_backoff = retry_backoff
        self.store: Store | None = None
        self.batch = Batch()
        self.result = WriteResult()
        self.failed = False
        self._lock: asyncio.Lock | None = None
        self._timer: asyncio.Task[None] | None = None
        self._tick_flush: asyncio.Future[None] | None = None
        self._closing: asyncio.Future[None] | None = None  # a reference, or asyncio may drop it

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        # Every value was checked at start-up (twitter_crawler.settings.check).
        s = crawler.settings
        return cls(
            crawler,
            s.get("POD_URL"),
            s.get("POD_OWNER_KEY") or "",
            s.get("POD_DATABASE_KEY") or "",
            # The archive import waits for no API answer: larger writes, fewer of them (a
            # SQLite transaction rewrites the index pages it touches; 400 of them took a
            # quarter more CPU than 100 for the same 200,000 tweets).
            s.getint("POD_ARCHIVE_BATCH_SIZE" if getattr(crawler.spidercls, "offline", False)
                     else "POD_BATCH_SIZE"),
            s.getfloat("POD_BATCH_SECONDS"),
            s.getint("POD_RETRY_TIMES"),
            s.getfloat("POD_RETRY_BACKOFF"),
            auth_json=s.get("POD_AUTH_JSON") or "",
        )

    async def open_spider(self) -> None:
        self._lock = asyncio.Lock()
        try:
            store = open_store(
                self.url,
                owner_key=self._keys[0],
                database_key=self._keys[1],
                auth_json=self._plugin_auth(),
                offline=bool(getattr(self.crawler.spider, "offline", False)),
            )
        except StoreConfigError as exc:
            logger.error("Cannot use the store: %(error)s", {"error": exc})
            self.failed = True
            raise CloseSpider("pod_config_error") from None
        try:
            await self._with_retries("open the store", store.open)
            watermarks = await self._with_retries("read the timeline watermarks", store.watermarks)
            contacts = await self._with_retries("read the contacts state", store.contacts_state)
        except StoreConfigError as exc:
            logger.error("Cannot use the store: %(error)s", {"error": exc})
            self.failed = True
            raise CloseSpider("pod_config_error") from None
        except StoreError as exc:
            logger.error(
                "%(where)s is unreachable or refused to open after %(times)d retries (%(error)s): "
                "nothing was imported. Rerun the same command once the store is back.",
                {"where": store.describe(), "times": self.retry_times, "error": exc},
            )
            self.failed = True
            await run_in_thread(store.close)
            raise CloseSpider("pod_unavailable") from None
        self.store = store
        self.crawler.stats.set_value("twitter/store/where", store.describe())
        # Before the first request: the watermark middleware gives timelines their since_id.
        await self.crawler.signals.send_catch_log_async(
            signal=watermarks_loaded, watermarks=watermarks
        )
        # Before the profile's answer: the spider reads each list in full or newest first.
        await self.crawler.signals.send_catch_log_async(signal=contacts_loaded, state=contacts)
        await self.crawler.signals.send_catch_log_async(signal=store_opened, store=store)
        self._timer = asyncio.ensure_future(self._tick())

    def _plugin_auth(self) -> dict[str, Any] | None:
        """``POD_AUTH_JSON``: inside the Pod, the PluginAuth used in place of the database key."""
        if not self._auth_json:
            return None
        try:
            auth = json.loads(self._auth_json)
        except ValueError:
            # Not the value itself: it is a secret.
            raise StoreConfigError("POD_AUTH_JSON is not valid JSON") from None
        if not isinstance(auth, dict):
            raise StoreConfigError("POD_AUTH_JSON must be a JSON object")
        return auth

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(self.batch_seconds)
            if len(self.batch) and not self.failed:
                # Shielded: closing cancels this loop, never a batch on its way to the store
                # (cancelled while it waits for the lock, the batch it took would be lost).
                self._tick_flush = asyncio.ensure_future(self._flush())
                await asyncio.shield(self._tick_flush)

    async def process_item(self, item: Any) -> Any:
        if self.failed:
            # Nothing is written after a lost batch: a later watermark must not outrun it.
            raise DropItem("the store stopped taking writes", log_level="DEBUG")
        # All of an answer joins one batch before any await: answers reach the store whole and
        # in the order they came, so a watermark never commits ahead of an earlier page.
        if isinstance(item, PackedAnswer) and item.packed is not None:
            # Handed on as it is (the archive's); an export decodes it later, if there is one.
            self.batch.add_packed(item.packed)
            item.extra = [out for out in map(self._add, item.extra) if out is not None]
            if len(self.batch) >= self.batch_size:
                await self._flush()
            return item
        exported = [out for out in map(self._add, unpack(item)) if out is not None]
        if len(self.batch) >= self.batch_size:
            await self._flush()
        if not exported:
            raise DropItem("bookkeeping, not exported", log_level="DEBUG")
        if isinstance(item, Answer):
            item.items = exported
            return item
        return exported[0]

    def _add(self, item: Any) -> dict[str, Any] | None:
        """Queues one item for the store; returns what feed exports get (None: bookkeeping)."""
        batch = self.batch
        if isinstance(item, TimelineWatermark):
            batch.watermarks[item.userId] = item.sinceId
            return None
        if isinstance(item, ContactsPage):
            batch.contact_pages.append(to_dict(item))
            return None
        # Already a dict when DedupePipeline ran first.
        out = item if isinstance(item, dict) else to_dict(item)
        (batch.edges if out["type"] == "Edge" else batch.items).append(out)
        return out

    async def _flush(self) -> None:
        # Swap first: items arriving while this batch is written go to the next one.
        batch, self.batch = self.batch, Batch()
        if not len(batch):
            return
        assert self._lock is not None
        assert self.store is not None
        async with self._lock:
            if self.failed:
                return
            try:
                result = await self._with_retries(
                    f"write a batch of {len(batch)}", self.store.write, batch
                )
            except StoreError as exc:
                self.failed = True
                self.crawler.stats.inc_value("twitter/store/failed_batches")
                logger.error(
                    "%(where)s is unreachable or refused a batch of %(n)d items and edges after "
                    "%(times)d retries (%(error)s): the crawl stops, nothing after that batch "
                    "is written. Rerun the same command once the store is back: it imports "
                    "what is missing.",
                    {"where": self.store.describe(), "n": len(batch), "times": self.retry_times,
                     "error": exc},
                )
                # Not awaited: closing waits for the items in progress, this one among them.
                self._closing = asyncio.ensure_future(
                    self.crawler.engine.close_spider_async(reason="pod_unavailable"))
                return
        self._count(result)

    async def _with_retries(self, doing: str, func: Any, *args: Any) -> Any:
        delay = self.retry_backoff
        for attempt in range(self.retry_times + 1):
            try:
                return await run_in_thread(func, *args)
            except StoreError as exc:
                if attempt == self.retry_times:
                    raise
                self.crawler.stats.inc_value("twitter/store/retries")
                logger.warning(
                    "Could not %(doing)s (%(error)s); retry %(attempt)d of %(times)d in %(delay).1fs",
                    {"doing": doing, "error": exc, "attempt": attempt + 1,
                     "times": self.retry_times, "delay": delay},
                )
                await asyncio.sleep(delay)
                delay *= 2
        raise AssertionError("unreachable")

    def _count(self, result: WriteResult) -> None:
        self.result.add(result)
        stats = self.crawler.stats
        stats.inc_value("twitter/store/batches")
        for name in ("created", "updated", "unchanged", "edges_created", "edges_removed"):
            for kind, n in getattr(result, name).items():
                stats.inc_value(f"twitter/store/{name}/{kind}", n)

    async def close_spider(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        if self._tick_flush is not None:
            await self._tick_flush
        if self.store is None:
            return
        if not self.failed:
            await self._flush()
        if self._lock is not None:
            async with self._lock:
                await run_in_thread(self.store.close)
