"""``scrapy settings``, showing the values a crawl reads.

Scrapy's own command shows the settings modules' values only; ours come from the add-on's
sources too (defaults, ``settings_local.py``, the environment: :mod:`twitter_crawler.addon`),
which are read when a crawler is built, and this command builds none.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrapy.commands.settings import Command as ScrapySettingsCommand

from twitter_crawler.addon import resolve

if TYPE_CHECKING:
    import argparse


class Command(ScrapySettingsCommand):
    def process_options(self, args: list[str], opts: argparse.Namespace) -> None:
        super().process_options(args, opts)
        assert self.settings is not None
        resolve(self.settings)
