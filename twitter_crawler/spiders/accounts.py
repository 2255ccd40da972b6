"""The accounts one crawl imports (``-a handles=a,b,c``), each on its own.

With one handle, an account that cannot be imported (missing, suspended, its profile not to be
had) ends the crawl with a named reason, as it always did. With several, it is **skipped**: one
line names it and why, the other accounts go on, and the end summary lists it. A protected
account is imported as far as its profile (its lists and tweets refused) and named too. The
outcome is kept in the crawl's stats, ``twitter/accounts/requested`` and
``twitter/accounts/skipped/<handle>`` = the reason, so that the summary and the
exit status (:mod:`twitter_crawler.commands.crawl`: 1 unless every account was imported) read it
without the spider.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

#: Why an account was skipped, as the summary says it.
REASONS = {
    "not_found": "does not exist",
    "suspended": "suspended",
    "protected": "protected: profile only",
    "unavailable": "profile not to be had",
}
SKIPPED = "twitter/accounts/skipped/"


class Accounts:
    """The handles of a crawl and what became of each."""

    def __init__(self, handles: tuple[str, ...], crawler: Crawler) -> None:
        self.handles = handles
        self._lower = {h.lower() for h in handles}
        # The crawl's stats exist once it starts, after its spider was made.
        self.crawler = crawler
        self._ids: dict[str, str] = {}  # account id -> handle, once its profile is read

    def started(self) -> None:
        self.crawler.stats.set_value("twitter/accounts/requested", len(self.handles))

    @property
    def several(self) -> bool:
        """Whether a failing account is skipped (several handles) or ends the crawl (one)."""
        return len(self.handles) > 1

    def imported(self, handle: str, account_id: str) -> None:
        """``handle``'s profile was read: its account is ``account_id``."""
        self._ids[account_id] = handle

    def handle_of(self, account_id: str) -> str:
        return self._ids.get(account_id, account_id)

    def is_handle(self, handle: str | None) -> bool:
        """Whether ``handle`` is one of the accounts this crawl imports."""
        return handle is not None and handle.lower() in self._lower

    def is_root(self, account_id: str) -> bool:
        """Whether ``account_id`` is one of the accounts imported (not one they follow)."""
        return account_id in self._ids

    def skip(self, handle: str, reason: str, why: str) -> None:
        """``handle`` is not imported (``reason``, a key of :data:`REASONS`): one line, counted."""
        key = SKIPPED + handle
        stats = self.crawler.stats
        if stats.get_value(key) is not None:
            return  # said once: its lists and timeline may each be refused
        stats.set_value(key, reason)
        logger.error("@%(handle)s skipped: %(why)s; the other accounts go on",
                     {"handle": handle, "why": why})


def skipped_accounts(stats: dict[str, Any]) -> dict[str, str]:
    """The skipped handles and why, from a crawl's stats."""
    return {k.removeprefix(SKIPPED): str(v) for k, v in stats.items() if k.startswith(SKIPPED)}
