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


def engine_wake(crawler: Crawler) -> None:
    """Tells the engine that work it does not track ended: an item sent through the pipelines
    without a response (the media pipeline's downloads). Scrapy looks whether the crawl is idle,
    or may finish closing, only when a response is done or at its next heartbeat (5 s later);
    a close (Ctrl-C) that began while such an item was in progress would wait for ever."""
    engine = getattr(crawler, "engine", None)
    slot = getattr(engine, "_slot", None)  # private in Scrapy 2.19; pinned by a test
    if slot is not None:
        slot.nextcall.schedule()
    scraper = getattr(engine, "scraper", None)
    closing = scraper.slot.closing if scraper is not None and scraper.slot is not None else None
    # Once fired, the close goes on without us (a second callback would raise).
    if scraper is not None and closing is not None and not closing.called:
        scraper._check_if_closing()  # private in Scrapy 2.19; pinned by a test
