"""Sends the stored media that still lack their file through the crawl again.

A media download that failed (or a kind of media that was not asked for before) leaves a
Photo, Video or Account in the store without its ``file`` or ``profilePicture`` edge. An
incremental run does not fetch those tweets again, so the media pipeline reads the list from the
store when it opens and hands it over with :data:`media_backlog_loaded`; this middleware yields
it after the spider's start requests, as :class:`~twitter_crawler.items.Answer` items marked
``known`` (stored already: the media pipeline passes on only the files and edges it adds).

Stats: ``twitter/media/backlog``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scrapy.spidermiddlewares.base import BaseSpiderMiddleware

from twitter_crawler.items import Account, Answer, Photo, Video

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from typing import Self

    from scrapy.crawler import Crawler

#: Sent by the media pipeline once the store is open, with ``items``: the dicts of
#: :attr:`~twitter_crawler.stores.base.MediaState.pending` it wants to fetch.
media_backlog_loaded = object()

#: Media per Answer: small enough that one Answer never holds up the store for long.
CHUNK = 50

_TYPES: dict[str, Any] = {"Photo": Photo, "Video": Video, "Account": Account}


class MediaBacklogMiddleware(BaseSpiderMiddleware):
    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self.pending: list[dict[str, Any]] = []

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        mw = cls(crawler)
        crawler.signals.connect(mw.load, signal=media_backlog_loaded)
        return mw

    def load(self, items: list[dict[str, Any]]) -> None:
        self.pending = list(items)
        self.crawler.stats.set_value("twitter/media/backlog", len(self.pending))

    async def process_start(self, start: AsyncIterator[Any]) -> AsyncIterator[Any]:
        async for request_or_item in start:
            yield request_or_item
        pending, self.pending = self.pending, []
        for at in range(0, len(pending), CHUNK):
            items = [_TYPES[d["type"]](**{k: v for k, v in d.items() if k != "type"})
                     for d in pending[at : at + CHUNK]]
            yield Answer(items, known=True)
