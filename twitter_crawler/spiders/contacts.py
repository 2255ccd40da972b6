"""How the spider reads an account's followers and followings: in full, or newest first until
the new ones are known.

Reading a list costs what it returns (X bills every follower or following of a page), so a rerun
that reads every list again pays again for what did not change. Both API versions list the
newest follows first; a refresh therefore reads a list from the top, starting with a small page,
and stops at the first page that holds an account the store already has as a follower
(following) of the account: what lies below was read before. Such a newest-first walk sees new
follows only: it is never complete, so it never removes an edge. An unfollow is seen by a full
read, made when one is due:

* the list was never read in full (a first import; a walk that a ``limit`` cut short, or that
  was stopped, is not a full read);
* ``TWITTER_CONTACTS_FULL_REFRESH`` days (0: every run) have passed since the store recorded
  the last full read (the store's clock, written when the walk's last page was stored);
* the crawl stores nothing (an export only: there is nothing to compare with), or the list only
  feeds the followings' timelines (its accounts are not imported, so the store holds no edges).

The store's state reaches the spider with the :data:`contacts_loaded` signal, sent by the store
pipeline when it opens the store, before the first request.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from twitter_crawler.stores.base import ContactsState

#: Sent by the store pipeline once its store is open, with ``state``: the
#: :class:`~twitter_crawler.stores.base.ContactsState` it read.
contacts_loaded = object()

#: Accounts asked for on the first page of a newest-first walk, beyond the net growth the
#: profile's count shows: an unchanged list costs this many reads.
FIRST_PAGE = 20
#: Each further page of a newest-first walk asks for this many times more (the API caps it at
#: its full page): a few new follows past the first page do not cost a full page of old ones.
PAGE_GROWTH = 10

SECONDS_PER_DAY = 86400.0


class ContactsPlanner:
    """Decides, per list, between a full read and a newest-first one, from what the store holds.

    ``full_refresh_days``: ``TWITTER_CONTACTS_FULL_REFRESH`` (0: a full read every run).
    """

    def __init__(self, full_refresh_days: float) -> None:
        self.full_refresh_days = full_refresh_days
        self.state: ContactsState | None = None

    def load(self, state: ContactsState) -> None:
        self.state = state

    def known(self, me: str, kind: str) -> set[str]:
        """The accounts the store holds as ``kind`` (``follower``/``following``) of ``me``."""
        if self.state is None:
            return set()
        return self.state.targets.get((me, kind), set())

    def last_full_read(self, me: str, kind: str) -> float | None:
        """When the list was last read in full (seconds since the epoch), if ever."""
        if self.state is None:
            return None
        return self.state.full_reads.get((me, kind))

    def newest_first(self, me: str, kind: str, *, imported: bool, limit: int | None) -> bool:
        """Whether the list ``kind`` of ``me`` is read newest first (else in full)."""
        if self.state is None or not imported or limit is not None:
            return False
        if self.full_refresh_days <= 0:
            return False
        last = self.last_full_read(me, kind)
        if last is None:
            return False
        return time.time() - last < self.full_refresh_days * SECONDS_PER_DAY

    def first_page(self, me: str, kind: str, count: int) -> int:
        """The first page of a newest-first walk: :data:`FIRST_PAGE`, plus the net growth of the
        list since it was stored (``count``: the profile's followers/followings count)."""
        return FIRST_PAGE + max(0, count - len(self.known(me, kind)))
