"""``scrapy crawl``, with an exit status that tells whether the import finished.

Scrapy's own command exits 0 whatever the close reason. An import that stopped on bad
credentials or an unreachable store must not look like a success to a script or to the Pod, so
this command (which replaces the built-in one through ``COMMANDS_MODULE``) exits 1 when the
spider closed for any reason but ``finished``, or when one of several accounts (``-a handles=``)
was skipped, and 2 with one line when a spider argument or a
setting is bad (:mod:`twitter_crawler.settings.check`).
"""

from __future__ import annotations

import gc
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.commands.crawl import Command as ScrapyCrawlCommand

from twitter_crawler.commands.startup import check_start
from twitter_crawler.spiders.accounts import skipped_accounts

if TYPE_CHECKING:
    import argparse

#: Reasons that end a crawl normally. ``shutdown`` (Ctrl-C) is a pause, not a failure, but the
#: import is not complete: it exits 1 too, so scripts rerun it.
SUCCESS = {"finished"}


class Command(ScrapyCrawlCommand):
    def process_options(self, args: list[str], opts: argparse.Namespace) -> None:
        super().process_options(args, opts)
        assert self.settings is not None
        check_start(self.settings, opts.spargs if args[:1] == ["twitter"] else None,
                    archive=opts.spargs if args[:1] == ["archive"] else None)

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if len(args) != 1:
            super().run(args, opts)
            return
        assert self.crawler_process
        crawler = self._create_crawler(args[0])
        reasons: list[str] = []

        def closed(reason: str, **_: Any) -> None:
            reasons.append(reason)

        crawler.signals.connect(closed, signal=signals.spider_closed, weak=False)
        self.crawler_process.crawl(crawler, **opts.spargs)
        self.crawler_process.start()
        # The process ends next: its objects are freed by the operating system, not one by one
        # by the collections of Python's shutdown, which took 0.3 s of CPU after every crawl,
        # even of a tiny archive (Scrapy, Twisted and lxml hold tens of thousands of objects).
        gc.freeze()
        if self.crawler_process.bootstrap_failed or any(r not in SUCCESS for r in reasons) or not reasons:
            self.exitcode = 1
        elif crawler.stats is not None and skipped_accounts(crawler.stats.get_stats()):
            self.exitcode = 1  # finished, but not every account was imported

    def short_desc(self) -> str:
        return "Run a spider; exit 1 unless it finished, 2 on a bad argument or setting"
