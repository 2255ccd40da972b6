"""Gives each timeline walk the stored ``since_id`` watermark of its account.

As scrapy-deltafetch skips pages seen in earlier crawls, this middleware makes a rerun ask only
for tweets newer than the last complete walk. The watermarks are read once, when the spider
opens, from the store named by ``POD_URL`` (in a thread: the reactor never waits on the store).
A walk that completes yields a :class:`~twitter_crawler.items.TimelineWatermark` item; it reaches
the store behind the walk's tweets, in the same ordered stream, so a crash mid-walk never
advances a watermark past tweets that were not stored.

Settings read: ``POD_URL``, ``POD_OWNER_KEY``, ``POD_DATABASE_KEY``.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.spidermiddlewares.base import BaseSpiderMiddleware
from scrapy.utils.asyncio import run_in_thread

from twitter_crawler.items import TimelineWatermark
from twitter_crawler.stores.base import open_store

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from typing_extensions import Self

logger = logging.getLogger(__name__)


def _read_watermarks(url: str, owner_key: str, database_key: str) -> dict[str, str]:
    store = open_store(url, owner_key=owner_key, database_key=database_key)
    store.open()
    try:
        return store.watermarks()
    finally:
        store.close()


class WatermarkMiddleware(BaseSpiderMiddleware):
    def __init__(self, crawler: Crawler, url: str, owner_key: str, database_key: str) -> None:
        super().__init__(crawler)
        self.url = url
        self._keys = (owner_key, database_key)
        self.watermarks: dict[str, str] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        s = crawler.settings
        mw = cls(crawler, s.get("POD_URL"), s.get("POD_OWNER_KEY") or "",
                 s.get("POD_DATABASE_KEY") or "")
        crawler.signals.connect(mw.spider_opened, signal=signals.spider_opened)
        return mw

    async def spider_opened(self) -> None:
        # A store that cannot be opened is reported by the store pipeline, which closes the
        # crawl; here it only means there is nothing to resume from.
        try:
            self.watermarks = await run_in_thread(_read_watermarks, self.url, *self._keys)
        except Exception as exc:  # noqa: BLE001
            logger.debug("No watermarks read from the store: %(error)s", {"error": exc})
            self.watermarks = {}
        self.crawler.stats.set_value("twitter/watermarks/loaded", len(self.watermarks))

    def get_processed_request(self, request: Request, response: Response | None) -> Request:
        walk = request.cb_kwargs.get("walk")
        if not walk or not walk.get("first") or walk.get("since_id") or "wanted" not in walk:
            return request
        since = self.watermarks.get(walk["user_id"])
        if since is None:
            return request
        self.crawler.stats.inc_value("twitter/watermarks/applied")
        spider = self.crawler.spider
        return spider.api.timeline({**walk, "since_id": since}, request.callback)

    def get_processed_item(self, item: Any, response: Response | None) -> Any:
        if isinstance(item, TimelineWatermark):
            self.watermarks[item.userId] = item.sinceId
        return item
