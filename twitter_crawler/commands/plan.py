"""``scrapy plan -a handle=NAME``: what ``scrapy crawl twitter`` with the same arguments and
settings would send and cost, from one profile request; nothing is imported.

The arguments and settings are checked as ``scrapy crawl`` checks them (exit 2 with one line);
the ``twitter_plan`` spider sends the profile request through the crawl's middlewares (OAuth,
errors, rate limits, the cost meter), and the plan goes to stdout, its last line
``estimated cost: $A – $B``. Exit 1 when the profile could not be read.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.commands import ScrapyCommand

from twitter_crawler.addon import COMPONENTS
from twitter_crawler.commands.startup import check_start
from twitter_crawler.spiders.arguments import PLAN_ARGUMENTS

if TYPE_CHECKING:
    import argparse



class Command(ScrapyCommand):
    requires_project = True

    def syntax(self) -> str:
        return "-a handle=NAME [-a parts=...] [-a limit=N] [-a following_tweets=N]"

    def short_desc(self) -> str:
        return "Print what importing an account would send and cost, importing nothing"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("-a", dest="spargs", action="append", default=[],
                            metavar="NAME=VALUE", help="spider argument (as scrapy crawl)")

    def process_options(self, args: list[str], opts: argparse.Namespace) -> None:
        super().process_options(args, opts)
        spargs: dict[str, str] = {}
        for pair in opts.spargs:
            name, sep, value = pair.partition("=")
            if not sep or name not in PLAN_ARGUMENTS:
                print(f"twitter: bad argument: {pair!r} (one of {', '.join(PLAN_ARGUMENTS)})",
                      file=sys.stderr)
                sys.exit(2)
            spargs[name] = value
        opts.spargs = spargs
        assert self.settings is not None
        check_start(self.settings, spargs)
        # A plan imports nothing: no store, no media, no feeds, and no JOBDIR (its seen
        # requests would make the import skip the profile).
        pipelines = self.settings.getdict("ITEM_PIPELINES")
        pipelines.update(dict.fromkeys(COMPONENTS["ITEM_PIPELINES"]))
        self.settings.set("ITEM_PIPELINES", pipelines, priority="cmdline")
        extensions = self.settings.getdict("EXTENSIONS")
        extensions["twitter_crawler.extensions.feeds.FeedExporter"] = None
        self.settings.set("EXTENSIONS", extensions, priority="cmdline")
        self.settings.set("FEEDS", {}, priority="cmdline")
        self.settings.set("JOBDIR", None, priority="cmdline")

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        assert self.crawler_process is not None
        crawler = self.crawler_process.create_crawler("twitter_plan")
        spiders: list[Any] = []

        def closed(spider: Any, reason: str, **_: Any) -> None:
            spiders.append((spider, reason))

        crawler.signals.connect(closed, signal=signals.spider_closed, weak=False)
        self.crawler_process.crawl(crawler, **opts.spargs)
        self.crawler_process.start()
        lines = spiders[0][0].lines if spiders else []
        if not lines:
            self.exitcode = 1
            return
        print("\n".join(lines))
