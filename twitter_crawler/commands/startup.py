"""The start-up check of the commands that run the crawler (``scrapy crawl``, ``scrapy plan``).

Here, before Scrapy starts its crawler process and prints its banner, so a bad value is the only
line the user sees: the spider's arguments, then the settings with the defaults,
``settings_local.py``, the environment and the ``-s`` overrides, once for every component (a bad
value ends the run here instead of switching a component off or raising mid start-up).
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from twitter_crawler.addon import resolve
from twitter_crawler.settings.check import BadSetting, check_settings
from twitter_crawler.spiders.arguments import (
    ARCHIVE_ARGUMENTS,
    ARGUMENTS,
    BadArgument,
    parse_archive_arguments,
    parse_arguments,
)

if TYPE_CHECKING:
    from scrapy.settings import BaseSettings


def check_start(
    settings: BaseSettings, arguments: dict[str, str] | None, *, archive: dict[str, str] | None = None
) -> None:
    """Exits 2 with one line on a bad spider argument (``arguments``, when the twitter spider
    runs; ``archive``, the archive spider's, whose archive is opened and checked here, before
    anything is written) or a bad setting; resolves ``settings`` in place."""
    if archive is not None:
        _check_archive(archive)
    if arguments is not None:
        try:
            parse_arguments(**{k: v for k, v in arguments.items() if k in ARGUMENTS})
        except BadArgument as exc:
            print(f"twitter: bad argument: {exc}", file=sys.stderr)
            sys.exit(2)
    resolve(settings)
    try:
        check_settings(settings)
    except BadSetting as exc:
        print(f"twitter: bad setting: {exc}", file=sys.stderr)
        sys.exit(2)


def _check_archive(arguments: dict[str, str]) -> None:
    # Imported here: the archive reader is not needed by the API import's start-up.
    from twitter_crawler.archive.reader import Archive, ArchiveError

    try:
        path = parse_archive_arguments(
            **{k: v for k, v in arguments.items() if k in ARCHIVE_ARGUMENTS})
        # The ZIP's table of contents and its tweets file, before the crawler starts.
        Archive.open(path).close()
    except BadArgument as exc:
        print(f"archive: bad argument: {exc}", file=sys.stderr)
        sys.exit(2)
    except ArchiveError as exc:
        print(f"archive: cannot import: {exc}", file=sys.stderr)
        sys.exit(2)
