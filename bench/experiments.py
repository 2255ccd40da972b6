"""Candidate fixes, tried from the outside with ``-s`` so the crawler's code stays as it is.

``python -m bench variants`` runs the throughput world with each of :data:`VARIANTS` side by side
(alternating, repeated) and reports tweets/s against the crawl as it is. A variant that helps is a
proposal for the crawler's settings or code, not something the benchmark changes.
"""

from __future__ import annotations

import logging
from typing import Any

from scrapy.logformatter import LogFormatter


class QuietLogFormatter(LogFormatter):
    """Scrapy's LogFormatter, except that the per-item DEBUG messages ("Scraped from ...",
    "Dropped: ...") are not even built when ``LOG_LEVEL`` would drop them.

    Scrapy leaves the root logger at DEBUG and filters in the handler, so every item otherwise
    costs a ``LogRecord`` (with ``findCaller``) that is thrown away.
    """

    def __init__(self, level: int = logging.DEBUG) -> None:
        self.level = level

    @classmethod
    def from_crawler(cls, crawler: Any) -> QuietLogFormatter:
        level = crawler.settings.get("LOG_LEVEL", "DEBUG")
        return cls(logging.getLevelName(level) if isinstance(level, str) else int(level))

    def scraped(self, item: Any, response: Any, spider: Any) -> Any:
        if self.level > logging.DEBUG:
            return None
        return super().scraped(item, response, spider)

    def dropped(self, item: Any, exception: BaseException, response: Any, spider: Any) -> Any:
        result = super().dropped(item, exception, response, spider)
        if result is not None and result["level"] < self.level:
            return None
        return result


#: name → (what it tries, extra ``-s`` settings); the spider is ``twitter`` unless the settings
#: name ``SPIDER`` (not a Scrapy setting: taken out before the crawl).
VARIANTS: dict[str, tuple[str, dict[str, str]]] = {
    "as is": ("the crawler's own settings", {}),
    "CONCURRENT_ITEMS=8": ("Scrapy starts CONCURRENT_ITEMS (default 100) tasks per response to run its "
                           "items through the pipelines; the pipelines are synchronous, 8 are plenty",
                           {"CONCURRENT_ITEMS": "8"}),
    "quiet item log": ("no LogRecord per item for DEBUG messages that LOG_LEVEL=INFO drops anyway",
                       {"LOG_FORMATTER": "bench.experiments.QuietLogFormatter"}),
    "both": ("CONCURRENT_ITEMS=8 and the quiet item log",
             {"CONCURRENT_ITEMS": "8", "LOG_FORMATTER": "bench.experiments.QuietLogFormatter"}),
    "both + POD_BATCH_SIZE=2000": ("and batches of 2,000 instead of 500 (fewer store transactions)",
                                   {"CONCURRENT_ITEMS": "8",
                                    "LOG_FORMATTER": "bench.experiments.QuietLogFormatter",
                                    "POD_BATCH_SIZE": "2000"}),
}


# -- prototype: one Scrapy item per API answer ------------------------------------------------
#
# What the profiles point at: every tweet becomes ~5 Scrapy items (tweet, author, media, links,
# edges), and each item pays Scrapy's per-item path (CONCURRENT_ITEMS tasks, the spider
# middleware chain, item_scraped/item_dropped signals with their gather, a log record, stats).
# This prototype keeps the project's parser, dedupe and store code and only wraps the items of
# one API answer into one Scrapy item, which the two pipelines unwrap. It is a measurement, not
# a finished design: feed exports and the progress line would need to unwrap it too.

from scrapy import Request  # noqa: E402
from scrapy.exceptions import DropItem  # noqa: E402

from twitter_crawler.pipelines.dedupe import DedupePipeline  # noqa: E402
from twitter_crawler.pipelines.store import StorePipeline  # noqa: E402
from twitter_crawler.spiders.twitter import TwitterSpider  # noqa: E402


class PageItems:
    """The items and edges of one API answer, in the order the spider made them."""

    type = "_PageItems"

    def __init__(self, items: list[Any]) -> None:
        self.items = items


def _batched(outputs: Any) -> Any:
    items: list[Any] = []
    for out in outputs:
        if isinstance(out, Request):
            yield out
        else:
            items.append(out)
    if items:
        yield PageItems(items)


class BatchedTwitterSpider(TwitterSpider):
    name = "twitter_batched"

    def parse_contacts(self, response: Any, walk: dict[str, Any]) -> Any:
        return _batched(super().parse_contacts(response, walk))

    def parse_lookup(self, response: Any, walk: dict[str, Any], ids: list[str]) -> Any:
        return _batched(super().parse_lookup(response, walk, ids))

    def parse_timeline(self, response: Any, walk: dict[str, Any]) -> Any:
        return _batched(super().parse_timeline(response, walk))


class BatchedDedupePipeline(DedupePipeline):
    def process_item(self, item: Any) -> Any:
        if not isinstance(item, PageItems):
            return super().process_item(item)
        keep = []
        for inner in item.items:
            try:
                keep.append(super().process_item(inner))
            except DropItem:
                pass
        item.items = keep
        return item


class BatchedStorePipeline(StorePipeline):
    async def process_item(self, item: Any) -> Any:
        if not isinstance(item, PageItems):
            return await super().process_item(item)
        for inner in item.items:
            try:
                await super().process_item(inner)
            except DropItem:
                pass
        return item


BATCHED = {
    "SPIDER_MODULES": "twitter_crawler.spiders,bench.experiments",
    "ITEM_PIPELINES": '{"bench.experiments.BatchedDedupePipeline": 100, '
                      '"bench.experiments.BatchedStorePipeline": 300}',
}


VARIANTS["one item per answer"] = (
    "prototype: the items of one API answer travel as one Scrapy item (BatchedTwitterSpider, "
    "BatchedDedupePipeline, BatchedStorePipeline below)", {**BATCHED, "SPIDER": "twitter_batched"})
VARIANTS["one item per answer + both"] = (
    "the prototype with CONCURRENT_ITEMS=8 and the quiet item log",
    {**BATCHED, "SPIDER": "twitter_batched", "CONCURRENT_ITEMS": "8",
     "LOG_FORMATTER": "bench.experiments.QuietLogFormatter"})
