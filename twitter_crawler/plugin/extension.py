"""The crawl's side of the PluginRun: its progress while it runs, and why it closed.

Enabled by the plugin entry point only (it hands over its reporter with :func:`use_reporter`;
without one the extension is not configured). Every ``POD_PLUGIN_PROGRESS_INTERVAL`` seconds
(default :data:`INTERVAL`) it writes the share done to the PluginRun's ``progress``, off the
reactor thread; the share is what the progress line shows too: follower and following edges plus
finished timelines, out of what the account's counts announce.
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.exceptions import NotConfigured
from scrapy.utils.asyncio import create_looping_call, run_in_thread

from twitter_crawler.items import unpack

if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Self

    from scrapy.crawler import Crawler

    from twitter_crawler.plugin.reporter import PluginRunReporter

logger = logging.getLogger(__name__)

#: Seconds between two progress updates of the PluginRun.
INTERVAL = 10.0

_reporter: PluginRunReporter | None = None


@contextmanager
def use_reporter(reporter: PluginRunReporter) -> Iterator[None]:
    """The reporter the crawls started in this block report to."""
    global _reporter  # noqa: PLW0603 (one plugin run per process)
    _reporter = reporter
    try:
        yield
    finally:
        _reporter = None


class PluginRunExtension:
    def __init__(self, crawler: Crawler, reporter: PluginRunReporter, interval: float) -> None:
        self.crawler = crawler
        self.reporter = reporter
        self.interval = interval
        self.edges = {"follower": 0, "following": 0}
        self._task: Any = None
        self._busy = False
        self._pushing: asyncio.Future[None] | None = None  # a reference, or asyncio may drop it

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        if _reporter is None:
            raise NotConfigured
        # More than 0: checked at start-up (twitter_crawler.settings.check).
        interval = crawler.settings.getfloat("POD_PLUGIN_PROGRESS_INTERVAL", INTERVAL)
        ext = cls(crawler, _reporter, interval)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(ext.item_scraped, signal=signals.item_scraped)
        return ext

    def spider_opened(self) -> None:
        logger.info(
            "Reporting to the PluginRun %(run)s in the Pod at %(url)s",
            {"run": self.reporter.env.run_id, "url": self.reporter.env.url},
        )
        self._task = create_looping_call(self._tick)
        self._task.start(self.interval, now=False)

    def spider_closed(self, reason: str) -> None:
        self.reporter.reason = reason
        if self._task is not None and self._task.running:
            self._task.stop()

    def item_scraped(self, item: Any) -> None:
        for inner in unpack(item):
            if (isinstance(inner, dict) and inner.get("type") == "Edge"
                    and inner.get("name") in self.edges):
                self.edges[inner["name"]] += 1

    def share(self) -> float:
        stats = self.crawler.stats
        known_followers = stats.get_value("twitter/spider/known/followers", 0)
        known_following = stats.get_value("twitter/spider/known/following", 0)
        timelines = sum(
            stats.get_value(key, 0)
            for key in (
                "twitter/spider/timelines_complete",
                "twitter/errors/protected",
                "twitter/errors/unavailable",
            )
        )
        timelines_known = known_following + 1  # the account's own and its followings'
        done = self.edges["follower"] + self.edges["following"] + timelines
        total = known_followers + known_following + timelines_known
        return float(done / total)

    def _tick(self) -> None:
        if not self._busy:
            self._busy = True
            self._pushing = asyncio.ensure_future(self._push(self.share()))

    async def _push(self, share: float) -> None:
        try:
            await run_in_thread(self.reporter.progress, share)
        finally:
            self._busy = False
