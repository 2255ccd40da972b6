"""Lets each item through once per crawl.

The same tweet or account turns up many times in one import (a retweeted original in several
timelines, an author on every tweet of a page). An item whose key was seen with the same
properties is dropped; one that brings new or changed properties passes as an update. An
Account seen in full is never followed by its minimal mention form.

Passes public items on as the plain dicts of :func:`~twitter_crawler.items.to_dict` (made once,
for its comparison, and reused by the store pipeline).

Stats: ``twitter/dedupe/dropped``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scrapy.exceptions import DropItem

from twitter_crawler.items import ContactsPage, TimelineWatermark, item_key, to_dict

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from typing_extensions import Self

# Set on Accounts only when the whole profile was in the payload, never on mentions.
FULL_ACCOUNT_FIELD = "followersCount"


class DedupePipeline:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        # hash(key) -> hash(properties): hashes keep memory flat at 100,000s of items.
        self.seen: dict[int, int] = {}
        self.full_accounts: set[int] = set()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def process_item(self, item: Any) -> Any:
        if isinstance(item, (TimelineWatermark, ContactsPage)):
            return item
        key = hash(item_key(item))
        if item.type == "Edge":
            if key in self.seen:
                return self._drop()
            self.seen[key] = 0
            return to_dict(item)
        if item.type == "Account":
            full = getattr(item, FULL_ACCOUNT_FIELD) is not None
            if key in self.full_accounts and not full:
                return self._drop()
            if full:
                self.full_accounts.add(key)
        out = to_dict(item)
        digest = hash(tuple(out.items()))
        if self.seen.get(key) == digest:
            return self._drop()
        self.seen[key] = digest
        # The dict, made once here, is what the store writes and feeds export.
        return out

    def _drop(self) -> None:
        self.crawler.stats.inc_value("twitter/dedupe/dropped")
        raise DropItem("already seen in this crawl", log_level="DEBUG")
