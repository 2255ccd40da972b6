"""Scrapy's feed exports, one record per item although the spider sends one item per answer, and
each item once.

The spider hands Scrapy an :class:`~twitter_crawler.items.Answer` per API answer (see
``spiders/twitter.py``); ``-O items.jsonl`` and every ``FEEDS`` format must still write each
Account, Tweet, Edge... as its own record, counted as such (``FEED_EXPORT_BATCH_ITEM_COUNT``,
``item_classes`` filters and the "Stored ... feed (N items)" line all see single items). This is
Scrapy's ``FeedExporter`` with the answer opened before each item reaches it; it takes Scrapy's
place in ``EXTENSIONS``.

Once: the dedupe pipeline drops repeats, but an account first met as a mention (handle and name
only) and later in full is two records for the store's one item. The mention form is held back
until the crawl ends and written only if the full profile never came; otherwise what it has
that the profile lacks joins the profile's record, as in the store.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scrapy.extensions.feedexport import FeedExporter as ScrapyFeedExporter

from twitter_crawler.items import unpack
from twitter_crawler.pipelines.dedupe import FULL_ACCOUNT_FIELD
from twitter_crawler.stores.records import merge

if TYPE_CHECKING:
    from scrapy import Spider
    from scrapy.crawler import Crawler


class FeedExporter(ScrapyFeedExporter):
    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self._mentions: dict[str, Any] = {}  # externalId -> the mention form, not written yet
        self._full: set[int] = set()  # hash(externalId) of accounts written in full

    def item_scraped(self, item: Any, spider: Spider) -> None:
        for inner in unpack(item):
            if isinstance(inner, dict) and inner.get("type") == "Account":
                key = inner["externalId"]
                if FULL_ACCOUNT_FIELD not in inner:
                    if hash(key) not in self._full:
                        # Mentions differ (v2 names some with a handle only): keep all they say.
                        held = self._mentions.setdefault(key, dict(inner))
                        merge(held, inner)
                    continue
                mention = self._mentions.pop(key, None)
                self._full.add(hash(key))
                if mention is not None:
                    # As in the store: the mention's values the profile lacks stay.
                    merge(mention, inner)
                    super().item_scraped(mention, spider)
                    continue
            super().item_scraped(inner, spider)

    async def close_spider(self, spider: Spider) -> None:
        mentions, self._mentions = self._mentions, {}
        for account in mentions.values():
            super().item_scraped(account, spider)
        await super().close_spider(spider)
