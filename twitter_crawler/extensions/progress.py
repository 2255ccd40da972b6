"""Shows a long import's progress at a steady pace, in one line a person can read.

``followers 3,000/10,412 · followings 180/180 · timelines 52/181 · tweets 1,904 ·
waiting: followers/list until 12:15:03 UTC · about 14m left``

What is done is counted from the items the crawl exports; what is known comes from the
account's counts in ``users/show``; the time left is extrapolated from the share done so far.

Settings read: ``TWITTER_PROGRESS_INTERVAL`` (seconds; 0 turns the line off).
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.exceptions import NotConfigured
from scrapy.utils.asyncio import create_looping_call

from twitter_crawler.api.prices import dollars
from twitter_crawler.items import unpack

if TYPE_CHECKING:
    from typing import Self

    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m"
    return f"{minutes}m" if minutes else f"{secs}s"


class ProgressExtension:
    def __init__(self, crawler: Crawler, interval: float) -> None:
        self.crawler = crawler
        self.interval = interval
        self.counts = {"follower": 0, "following": 0, "tweets": 0}
        self.started = time.monotonic()
        self._task: Any = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        interval = crawler.settings.getfloat("TWITTER_PROGRESS_INTERVAL")
        if interval <= 0 or getattr(crawler.spidercls, "offline", False):
            # (The archive import, which reads no timeline, shows its own line.)
            raise NotConfigured
        ext = cls(crawler, interval)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(ext.item_scraped, signal=signals.item_scraped)
        return ext

    def spider_opened(self) -> None:
        self.started = time.monotonic()
        self._task = create_looping_call(self.log_progress)
        self._task.start(self.interval, now=False)

    def spider_closed(self) -> None:
        if self._task is not None and self._task.running:
            self._task.stop()

    def item_scraped(self, item: Any) -> None:
        for inner in unpack(item):
            kind = inner.get("type") if isinstance(inner, dict) else getattr(inner, "type", None)
            if kind == "Tweet":
                self.counts["tweets"] += 1
            elif kind == "Edge":
                name = inner.get("name") if isinstance(inner, dict) else inner.name
                if name in ("follower", "following"):
                    self.counts[name] += 1

    def _waiting(self) -> list[tuple[str, float]]:
        out = []
        downloader = self.crawler.engine.downloader
        for mw in downloader.middleware.middlewares:
            for endpoint, budget in getattr(mw, "budgets", {}).items():
                if budget.parked:
                    out.append((endpoint, budget.reset_at))
        return out

    def line(self) -> str:
        stats = self.crawler.stats
        known_followers = stats.get_value("twitter/spider/known/followers", 0)
        known_following = stats.get_value("twitter/spider/known/following", 0)
        # A protected or unavailable timeline is finished too: there is nothing more to read.
        timelines_done = sum(stats.get_value(k, 0) for k in (
            "twitter/spider/timelines_complete", "twitter/errors/protected",
            "twitter/errors/unavailable"))
        timelines_known = known_following + 1
        parts = [
            f"followers {self.counts['follower']:,}/{known_followers:,}",
            f"followings {self.counts['following']:,}/{known_following:,}",
            f"timelines {timelines_done:,}/{timelines_known:,}",
            f"tweets {self.counts['tweets']:,}",
        ]
        spent = stats.get_value("twitter/cost/micro_usd", None)
        if spent is not None:  # metered (API v2): what the answers so far cost
            parts.append(f"cost {dollars(spent)}")
        waiting = self._waiting()
        if waiting:
            parts.append("waiting: " + ", ".join(
                f"{endpoint} until {datetime.fromtimestamp(reset, tz=UTC):%H:%M:%S} UTC"
                for endpoint, reset in waiting))
        done = self.counts["follower"] + self.counts["following"] + timelines_done
        total = known_followers + known_following + timelines_known
        if 0 < done < total:
            elapsed = time.monotonic() - self.started
            left = elapsed * (total - done) / done
            # Whatever the pace so far, nothing finishes before the rate limits reset.
            left = max([left, *(reset - time.time() for _, reset in waiting)])
            parts.append(f"about {_duration(left)} left")
        return " · ".join(parts)

    def log_progress(self) -> None:
        logger.info("%(line)s", {"line": self.line()})
