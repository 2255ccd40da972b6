"""Whether the crawl is closing: what components that wait (parked requests, retry backoffs,
media downloads) look at so that Ctrl-C or a fatal error never waits for them."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

#: Seconds between two looks at :func:`engine_closing` while a component waits.
POLL = 0.25


def engine_closing(crawler: Crawler) -> bool:
    """True once the crawl is closing (Ctrl-C, a fatal error, CLOSESPIDER_*): waiting requests
    then go back to the scheduler instead of holding the close up. False before the crawl runs."""
    try:
        engine = crawler.engine
    except RuntimeError:  # not started (a component built in a unit test)
        return False
    if engine is None:
        return False
    slot = getattr(engine, "_slot", None)  # private in Scrapy 2.19; pinned by a test
    return not engine.running or bool(slot is not None and slot.closing)
