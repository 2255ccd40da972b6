"""Scrapy's feed exports, one record per item although the spider sends one item per answer.

The spider hands Scrapy an :class:`~twitter_crawler.items.Answer` per API answer (see
``spiders/twitter.py``); ``-O items.jsonl`` and every ``FEEDS`` format must still write each
Account, Tweet, Edge... as its own record, counted as such (``FEED_EXPORT_BATCH_ITEM_COUNT``,
``item_classes`` filters and the "Stored ... feed (N items)" line all see single items). This is
Scrapy's ``FeedExporter`` with the answer opened before each item reaches it; it takes Scrapy's
place in ``EXTENSIONS``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scrapy.extensions.feedexport import FeedExporter as ScrapyFeedExporter

from twitter_crawler.items import unpack

if TYPE_CHECKING:
    from scrapy import Spider


class FeedExporter(ScrapyFeedExporter):
    def item_scraped(self, item: Any, spider: Spider) -> None:
        for inner in unpack(item):
            super().item_scraped(inner, spider)
