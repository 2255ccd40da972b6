"""The pages an API answer is read into: one set of types for both API versions.

v2's fields are the superset. What v1.1 does not send keeps its default there: its pages carry no
``errors`` (v1.1 answers an error with a non-2xx status, never inside a 200), no ``next_token``
(its timelines page by ``max_id``) and no ``meta`` counts. So the spider reads a page the same
way whichever version made it, and the paging rules that do differ stay in the API classes
(:meth:`~twitter_crawler.api.contract.TwitterApi.next_timeline_position`).

Pure dataclasses, no Scrapy.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from twitter_crawler.api.problems import Problem, ProblemError

if TYPE_CHECKING:
    from twitter_crawler.items import Account

__all__ = ["END_CURSOR", "IdsPage", "TimelinePage", "UsersPage"]

#: The cursor of a contacts page that has no page after it (v1.1's ``next_cursor`` ``0``; v2's
#: missing ``meta.next_token``).
END_CURSOR = "0"


def _numeric(ids: list[str]) -> list[int]:
    return [int(i) for i in ids if i.isascii() and i.isdigit()]


@dataclass(slots=True)
class UsersPage:
    """One page of full user objects: v1.1 ``followers/list`` / ``friends/list``, v2
    ``/2/users/:id/followers`` / ``/following``.

    ``next_cursor`` is v1.1's ``next_cursor`` or v2's ``meta.next_token``; :data:`END_CURSOR` at
    the end of the list (also when the payload has no cursor at all, so that a walk can never
    loop). ``previous_cursor`` likewise. ``skipped``: one reason per user object not imported.

    v2 only: ``errors``, the problems of the answer (a protected or suspended account, ...);
    :attr:`error` is them as a :class:`ProblemError` when the page has no ``data``;
    ``result_count`` as sent.
    """

    users: list[Account]
    next_cursor: str = END_CURSOR
    previous_cursor: str = END_CURSOR
    skipped: list[str] = field(default_factory=list)
    errors: list[Problem] = field(default_factory=list)
    result_count: int | None = None
    has_data: bool = True

    @property
    def is_last(self) -> bool:
        """Whether no page follows this one."""
        return self.next_cursor == END_CURSOR or not self.next_cursor

    @property
    def error(self) -> ProblemError | None:
        """The answer's error when it is one (a protected list, in a 200), else ``None``."""
        if self.errors and not self.has_data:
            return ProblemError(200, self.errors)
        return None


@dataclass(slots=True)
class IdsPage:
    """One page of v1.1 ``followers/ids`` or ``friends/ids``: ids as strings, as ints or strings
    came (v2 has no ids endpoints)."""

    ids: list[str]
    next_cursor: str = END_CURSOR
    previous_cursor: str = END_CURSOR
    skipped: list[str] = field(default_factory=list)

    @property
    def is_last(self) -> bool:
        """Whether no page follows this one."""
        return self.next_cursor == END_CURSOR or not self.next_cursor


@dataclass(slots=True)
class TimelinePage:
    """One page of a user's timeline: v1.1 ``statuses/user_timeline``, v2 ``/2/users/:id/tweets``.

    ``items``: accounts, then tweets (referenced ones before those referencing them), then photos,
    videos and websites, then edges, so both endpoints of every edge come before it. Within a page
    an item appears once: a second sighting of the same key is merged into the first (non-``None``
    properties win), so a minimal mention and the full profile of one account are one ``Account``.

    ``tweet_ids``: the ids of the page's own (kept) tweets in payload order (not the embedded or
    included ones), including tweets imported only in part, for paging and watermarks.

    ``skipped``: one human-readable reason per object that could not be imported at all.

    v2 only: ``next_token`` (``meta.next_token``; ``None`` at the end); ``errors``, the problems
    of the answer (a protected account: ``not-authorized``), and :attr:`error`, them as a
    :class:`ProblemError` when the page has no ``data``; ``result_count``, ``newest_id`` and
    ``oldest_id``, the ``meta`` values as sent.
    """

    items: list[Any]
    tweet_ids: list[str]
    skipped: list[str] = field(default_factory=list)
    next_token: str | None = None
    errors: list[Problem] = field(default_factory=list)
    result_count: int | None = None
    newest_id: str | None = None
    oldest_id: str | None = None
    has_data: bool = True

    @property
    def min_id(self) -> str | None:
        """The lowest own tweet id (v1.1's next request asks for ``max_id`` one below it)."""
        ids = _numeric(self.tweet_ids)
        return str(min(ids)) if ids else None

    @property
    def max_id(self) -> str | None:
        """The highest own tweet id (the timeline's next ``since_id`` watermark)."""
        ids = _numeric(self.tweet_ids)
        return str(max(ids)) if ids else None

    @property
    def error(self) -> ProblemError | None:
        """The answer's error when it is one (a protected timeline, in a 200), else ``None``."""
        if self.errors and not self.has_data:
            return ProblemError(200, self.errors)
        return None
