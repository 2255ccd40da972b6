"""Makes a JOBDIR safe to resume after a crash, not only after a clean pause.

Scrapy writes a job directory's queue state (``requests.queue/*/info.json``) and
``spider.state`` only when the crawl closes, while ``requests.seen`` grows as requests are
scheduled. After ``kill -9`` or a power cut the directory remembers requests as seen that no
queue holds any more: a resume would skip them silently.

So this extension marks the job directory as in use for the whole crawl and removes the mark
only once the crawl has closed cleanly (Ctrl-C included: Scrapy then saves its queues). A crawl
that finds the mark of an earlier one knows that run did not end cleanly, logs it, and clears
the directory's Scrapy state before anything reads it: the import starts over from the store,
whose watermarks and upserts make that cheap and exact (nothing lost, nothing duplicated).

Settings read: ``JOBDIR``.
Stats: ``twitter/jobdir/unclean_restart``.
"""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from scrapy import signals
from scrapy.exceptions import NotConfigured

if TYPE_CHECKING:
    from typing import Self

    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

MARK = "twitter_crawler.running"
SCRAPY_STATE = ("requests.queue", "requests.seen", "spider.state")


class JobDirGuard:
    def __init__(self, crawler: Crawler, jobdir: Path) -> None:
        self.crawler = crawler
        self.jobdir = jobdir
        self.mark = jobdir / MARK
        self.unclean = self.mark.exists()
        if self.unclean:
            self._clear()
        jobdir.mkdir(parents=True, exist_ok=True)
        self.mark.write_text(f"{os.getpid()}\n", encoding="ascii")

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        # Built with the crawler, before the scheduler and the dupefilter open the directory.
        jobdir = crawler.settings.get("JOBDIR")
        if not jobdir:
            raise NotConfigured
        ext = cls(crawler, Path(jobdir))
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def _clear(self) -> None:
        for name in SCRAPY_STATE:
            path = self.jobdir / name
            if path.is_dir():
                shutil.rmtree(path)
            elif path.exists():
                path.unlink()

    def spider_opened(self) -> None:
        if self.unclean:
            self.crawler.stats.set_value("twitter/jobdir/unclean_restart", 1)
            logger.warning(
                "The previous crawl in JOBDIR %(jobdir)s did not end cleanly (killed?): its "
                "queue cannot be trusted, so this crawl starts over from what the store holds "
                "(nothing imported is lost or imported twice)",
                {"jobdir": str(self.jobdir)},
            )

    def spider_closed(self) -> None:
        # spider_closed comes after the scheduler has saved its queues.
        self.mark.unlink(missing_ok=True)
