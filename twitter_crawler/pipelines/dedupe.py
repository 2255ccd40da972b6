"""Lets each item through once per crawl.

The same tweet or account turns up many times in one import (a retweeted original in several
timelines, an author on every tweet of a page). An item whose key was seen with the same
properties is dropped; one that brings new or changed properties passes as an update. An
Account seen in full is never followed by its minimal mention form.

Passes public items on as the plain dicts of :func:`~twitter_crawler.items.to_dict` (made once,
for its comparison, and reused by the store pipeline). Inside an
:class:`~twitter_crawler.items.Answer` duplicates are left out rather than dropped one by one; an
Answer marked ``distinct`` (the archive import's, whose parser leaves out its own repeats) passes
as it is.

Settings read: ``TWITTER_DEDUPE_WINDOW`` (keys remembered per generation; two generations).

Stats: ``twitter/dedupe/dropped``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scrapy.exceptions import DropItem

from twitter_crawler.items import (
    Answer,
    ContactsPage,
    MediaDownloads,
    TimelineWatermark,
    item_key,
    to_dict,
)

if TYPE_CHECKING:
    from typing import Self

    from scrapy.crawler import Crawler

# Set on Accounts only when the whole profile was in the payload, never on mentions.
FULL_ACCOUNT_FIELD = "followersCount"


class DedupePipeline:
    def __init__(self, crawler: Crawler, window: int) -> None:
        self.crawler = crawler
        self.window = window
        # hash(key) -> hash(properties), in two generations of at most ``window`` keys: memory
        # stays bounded at millions of items. A repeat older than that passes again, and the
        # store's upsert makes it a no-op; repeats are mostly close together (an author on
        # every tweet of a page, an original retweeted by several followings).
        self.seen: dict[int, int] = {}
        self.older: dict[int, int] = {}
        self.full_accounts: set[int] = set()
        self.older_full: set[int] = set()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        # At least 1: checked at start-up (twitter_crawler.settings.check).
        return cls(crawler, crawler.settings.getint("TWITTER_DEDUPE_WINDOW"))

    def _remembered(self, key: int) -> int | None:
        found = self.seen.get(key)
        return self.older.get(key) if found is None else found

    def _remember(self, key: int, digest: int) -> None:
        self.seen[key] = digest
        if len(self.seen) >= self.window:
            self.older, self.seen = self.seen, {}
            self.older_full, self.full_accounts = self.full_accounts, set()

    def process_item(self, item: Any) -> Any:
        if isinstance(item, MediaDownloads):
            return item  # media of items that passed here already: only their files are new
        if isinstance(item, Answer):
            if item.distinct:
                return item  # made as dicts, each new to the crawl, by the spider itself
            kept = [out for out in map(self._filter, item.items) if out is not None]
            dropped = len(item.items) - len(kept)
            if dropped:
                self.crawler.stats.inc_value("twitter/dedupe/dropped", dropped)
            if not kept:
                raise DropItem("already seen in this crawl", log_level="DEBUG")
            item.items = kept
            return item
        out = self._filter(item)
        if out is None:
            self.crawler.stats.inc_value("twitter/dedupe/dropped")
            raise DropItem("already seen in this crawl", log_level="DEBUG")
        return out

    def _filter(self, item: Any) -> Any:
        """The item to pass on, or ``None`` when it brings nothing new."""
        if isinstance(item, (TimelineWatermark, ContactsPage)):
            return item
        key = hash(item_key(item))
        if item.type == "Edge":
            if self._remembered(key) is not None:
                return None
            self._remember(key, 0)
            return to_dict(item)
        if item.type == "Account":
            full = getattr(item, FULL_ACCOUNT_FIELD) is not None
            if not full and (key in self.full_accounts or key in self.older_full):
                return None
            if full:
                self.full_accounts.add(key)
        out = to_dict(item)
        digest = hash(tuple(out.items()))
        if self._remembered(key) == digest:
            return None
        self._remember(key, digest)
        # The dict, made once here, is what the store writes and feeds export.
        return out
