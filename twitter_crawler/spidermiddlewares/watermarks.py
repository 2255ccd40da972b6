"""Gives each timeline walk the stored ``since_id`` watermark of its account.

As scrapy-deltafetch skips pages seen in earlier crawls, this middleware makes a rerun ask only
for tweets newer than the last complete walk. The watermarks come from the store the crawl
writes to: the store pipeline reads them when it opens its store (in a thread, with its retries)
and hands them over with the :data:`watermarks_loaded` signal, before the first request is sent.
A crawl that stores nothing (no store pipeline) has no watermarks and reads every timeline in
full, as an export of everything should.

A walk of a followed account's newest tweets keeps a watermark of its own
(:func:`~twitter_crawler.items.watermark_key`): an import of that account's whole timeline, in
this crawl or a later one, never skips the older tweets that walk did not read.

A walk that completes yields a :class:`~twitter_crawler.items.TimelineWatermark` item; it reaches
the store behind the walk's tweets, in the same ordered stream, so a crash mid-walk never
advances a watermark past tweets that were not stored.

The request with the watermark is built anew by the API contract
(:class:`~twitter_crawler.api.TwitterApi` of ``TWITTER_API_VERSION``), as the spider built the
first one.

Stats: ``twitter/watermarks/loaded``, ``twitter/watermarks/applied``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scrapy.spidermiddlewares.base import BaseSpiderMiddleware

from twitter_crawler.api import from_settings
from twitter_crawler.items import RECENT, TimelineWatermark, bookkeeping

if TYPE_CHECKING:
    from typing import Self

    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Response

    from twitter_crawler.api import TwitterApi

#: Sent by the store pipeline once its store is open, with ``watermarks``: every stored
#: watermark, user id -> since_id.
watermarks_loaded = object()


class WatermarkMiddleware(BaseSpiderMiddleware):
    def __init__(self, crawler: Crawler, api: TwitterApi) -> None:
        super().__init__(crawler)
        self.api = api
        self.watermarks: dict[str, str] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        mw = cls(crawler, from_settings(crawler.settings))
        crawler.signals.connect(mw.load, signal=watermarks_loaded)
        return mw

    def load(self, watermarks: dict[str, str]) -> None:
        self.watermarks = dict(watermarks)
        self.crawler.stats.set_value("twitter/watermarks/loaded", len(self.watermarks))

    def get_processed_request(self, request: Request, response: Response | None) -> Request:
        walk = request.cb_kwargs.get("walk")
        callback = request.callback
        if not walk or not walk.get("first") or walk.get("since_id") or "wanted" not in walk:
            return request
        if callback is None:  # never: the spider gives every timeline request its callback
            return request
        since = self.watermarks.get(walk["user_id"])
        if not walk.get("own"):
            # Newest tweets only: the whole timeline's watermark or that of an earlier walk of
            # its newest tweets, whichever is newer. A walk of the whole timeline never starts
            # from the latter: the tweets below it were not all read.
            recent = self.watermarks.get(RECENT + walk["user_id"])
            if recent is not None and (since is None or int(recent) > int(since)):
                since = recent
        if since is None:
            return request
        self.crawler.stats.inc_value("twitter/watermarks/applied")
        return self.api.timeline({**walk, "since_id": since}, callback)

    def get_processed_item(self, item: Any, response: Response | None) -> Any:
        for inner in bookkeeping(item):
            if isinstance(inner, TimelineWatermark):
                self.watermarks[inner.userId] = inner.sinceId
        return item
