"""The one contract between the crawl and an API version: what the spider and the middlewares
may ask of the API, whichever version ``TWITTER_API_VERSION`` picks.

:class:`TwitterApi` is implemented by :class:`~twitter_crawler.api.v1.requests.ApiV1` (v1.1) and
:class:`~twitter_crawler.api.v2.requests.ApiV2` (v2); :func:`twitter_crawler.api.from_settings`
chooses one. Outside ``twitter_crawler/api/`` nothing knows which version it talks to: every
difference between them is an answer of this contract.

* Requests: :meth:`~TwitterApi.user`, :meth:`~TwitterApi.contacts`, :meth:`~TwitterApi.lookup`,
  :meth:`~TwitterApi.timeline`. Each carries ``twitter_endpoint`` and ``download_slot`` in
  ``meta`` (:func:`~twitter_crawler.api.request.api_request`), and its walk position in
  ``cb_kwargs`` as a plain dict, so a JOBDIR can keep it.
* Answers: :meth:`~TwitterApi.check_error` raises the error of a non-2xx answer; the
  ``parse_*`` methods read a 2xx body into the shared pages of :mod:`twitter_crawler.api.pages`
  (a body that is not JSON raises :class:`~twitter_crawler.exceptions.MalformedPayload`).
* Paging: :meth:`~TwitterApi.next_timeline_position` says where a timeline walk goes on, or
  that it ended (v1.1 pages by ``max_id`` until an empty page; v2 by ``pagination_token``
  until there is none). A contacts walk pages by the page's ``next_cursor`` in both.
* Planning: :attr:`~TwitterApi.timeline_cap`, :attr:`~TwitterApi.lookup_batch`,
  :meth:`~TwitterApi.contacts_strategies` and :attr:`~TwitterApi.timelines_only_strategy`.
* Authentication and errors: :attr:`~TwitterApi.accepts_bearer_token` (for the OAuth
  middleware), the endpoints of the profile, timeline and lookup requests and
  :attr:`~TwitterApi.access_level_message` (for the error middleware).
* Billing (for the cost middleware): :meth:`~TwitterApi.billable` (what an answer may be billed
  for, at most), :meth:`~TwitterApi.billed_resources` (what it holds),
  :meth:`~TwitterApi.token_user` and :meth:`~TwitterApi.parse_token_user` (whose token it is:
  Owned Reads). Prices are in :mod:`twitter_crawler.api.prices`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any, ClassVar

from twitter_crawler.exceptions import NotInThisVersion

if TYPE_CHECKING:
    from collections.abc import Callable

    from scrapy import Request

    from twitter_crawler.api.pages import IdsPage, TimelinePage, UsersPage
    from twitter_crawler.api.prices import Billable, Resources
    from twitter_crawler.items import Account

__all__ = ["TwitterApi", "Walk"]

#: A walk's position and purpose (who, which list or timeline, how far): JSON-safe values only.
Walk = dict[str, Any]


class TwitterApi(ABC):
    """One API version: its requests, how its answers read, how its walks page and plan.

    Built with the API's base URL (``TWITTER_API_URL``, without the version path). Instances hold
    no state but that URL: the spider and the middlewares may each build their own.
    """

    #: ``"1.1"`` or ``"2"``, as ``TWITTER_API_VERSION`` spells it once checked.
    version: ClassVar[str]
    #: The ``twitter_endpoint`` (quota family) of :meth:`user`, :meth:`timeline` and
    #: :meth:`lookup` requests (``None``: no lookup), for the components that treat an answer by
    #: what it answers.
    profile_endpoint: ClassVar[str]
    timeline_endpoint: ClassVar[str]
    lookup_endpoint: ClassVar[str | None] = None
    #: Whether an app-only bearer token (``TWITTER_BEARER_TOKEN``) may stand in for the
    #: user-context credentials.
    accepts_bearer_token: ClassVar[bool] = False
    #: Whether X bills this version's answers per resource returned (pay-per-use: v2). v1.1
    #: reads are an Enterprise matter, priced by contract: not metered.
    billed_per_resource: ClassVar[bool] = False
    #: The newest tweets of a timeline the API serves at all: older ones are out of reach.
    timeline_cap: ClassVar[int] = 3200
    #: For ``scrapy plan``: accounts per contacts page, posts per timeline page, and the
    #: ``twitter_endpoint`` of each part (``followers``, ``following``; ``users/me`` is v2's).
    contacts_page: ClassVar[int] = 200
    timeline_page: ClassVar[int] = 200
    contacts_endpoints: ClassVar[dict[str, str]] = {}
    #: Documented requests per 15-minute window by ``twitter_endpoint`` (X_API_2026.md §3),
    #: with user-context credentials and with an app-only bearer token; used to plan, the
    #: ``x-rate-limit-*`` headers decide.
    quotas: ClassVar[dict[str, int]] = {}
    app_quotas: ClassVar[dict[str, int]] = {}
    #: Accounts per :meth:`lookup` (the ``ids`` strategy).
    lookup_batch: ClassVar[int] = 100
    #: How a followings walk is read that only feeds the followings' timelines (its accounts are
    #: not imported): the cheapest way to their ids.
    timelines_only_strategy: ClassVar[str] = "list"
    #: The line that closes the crawl on an access-level refusal (``twitter_access_level``),
    #: with the error's ``%(endpoint)s``, ``%(status)s`` and ``%(message)s``: what the way out
    #: is depends on the version.
    access_level_message: ClassVar[str]

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url

    # -- requests ------------------------------------------------------------------------------

    @abstractmethod
    def user(
        self, handle: str, callback: Callable[..., Any],
        errback: Callable[..., Any] | None = None,
    ) -> Request:
        """The profile of ``handle`` (the first request of a crawl)."""

    @abstractmethod
    def contacts(self, walk: Walk, callback: Callable[..., Any]) -> Request:
        """A page of followers or followings: ``walk["kind"]`` (``follower``/``following``),
        ``walk["user_id"]``, ``walk["strategy"]`` (``list`` or ``ids``), ``walk["cursor"]``
        (``"-1"`` first). ``walk["count"]``, when set, asks for at most that many (a
        newest-first walk starts small); the version's full page otherwise, and at most."""

    def lookup(self, ids: list[str], walk: Walk, callback: Callable[..., Any]) -> Request:
        """The accounts of ``ids`` (at most :attr:`lookup_batch`): the ``ids`` strategy's second
        step. Only versions that can choose ``ids`` have it."""
        raise NotInThisVersion(f"API {self.version} has no users lookup")

    @abstractmethod
    def timeline(self, walk: Walk, callback: Callable[..., Any]) -> Request:
        """One page of a timeline walk, newest first: ``walk["user_id"]``, ``walk["wanted"]``,
        ``walk["fetched"]``, ``walk["since_id"]`` and the position set by
        :meth:`next_timeline_position`."""

    # -- answers -------------------------------------------------------------------------------

    @abstractmethod
    def check_error(self, status: int, body: bytes) -> None:
        """Raise the :class:`~twitter_crawler.exceptions.TwitterAPIError` of a non-2xx answer
        (with the v1.1 codes of its meaning), :class:`~twitter_crawler.exceptions.MalformedPayload`
        for a 2xx body that is not JSON."""

    @abstractmethod
    def parse_profile(self, body: bytes) -> Account:
        """The account of a :meth:`user` answer. An answer that is an error although a 200 (v2:
        the handle unknown or suspended) raises it as a ``TwitterAPIError``."""

    @abstractmethod
    def parse_users_page(self, body: bytes, *, me_id: str) -> UsersPage:
        """A ``list`` strategy's :meth:`contacts` answer. An error inside a 200 (a protected
        list) is the page's :attr:`~twitter_crawler.api.pages.UsersPage.error`."""

    def parse_ids_page(self, body: bytes) -> IdsPage:
        """An ``ids`` strategy's :meth:`contacts` answer."""
        raise NotInThisVersion(f"API {self.version} has no ids pages")

    def parse_lookup(self, body: bytes, *, me_id: str) -> list[Account]:
        """A :meth:`lookup` answer."""
        raise NotInThisVersion(f"API {self.version} has no users lookup")

    @abstractmethod
    def parse_timeline(self, body: bytes, walk: Walk) -> TimelinePage:
        """A :meth:`timeline` answer, keeping no more tweets than the walk still wants. An error
        inside a 200 (a protected timeline) is the page's
        :attr:`~twitter_crawler.api.pages.TimelinePage.error`."""

    # -- paging and planning -------------------------------------------------------------------

    @abstractmethod
    def next_timeline_position(self, page: TimelinePage) -> Walk | None:
        """Where a timeline walk goes on after ``page``, a page with tweets (the keys to set in
        the walk), or ``None`` when the API says there is nothing more."""

    def contacts_strategies(
        self, followers: int, followings: int, limit: int | None, setting: str
    ) -> dict[str, str]:
        """How followers and followings are read (``{"follower": ..., "following": ...}``),
        given the account's counts, the ``limit`` argument and ``TWITTER_CONTACTS_STRATEGY``
        (``auto``, ``list`` or ``ids``). Versions with one way to read contacts ignore
        ``setting``."""
        return {"follower": "list", "following": "list"}

    # -- billing -------------------------------------------------------------------------------

    def billable(self, endpoint: str, url: str) -> Billable | None:
        """What the answer to a request of ``endpoint`` (``twitter_endpoint``) at ``url`` may be
        billed for, or None when this version's answers are not billed per resource (v1.1:
        Enterprise, priced by contract)."""
        return None

    def billed_resources(self, billable: Billable, body: bytes) -> Resources:
        """The resources a 2xx answer of ``billable`` holds (a body that is not JSON holds
        none)."""
        raise NotInThisVersion(f"API {self.version} is not billed per resource")

    def token_user(self) -> Request | None:
        """The request that says whose the user-context token is (None: this version cannot
        tell, or need not). It carries ``twitter_cost_endpoint`` in ``meta``, not
        ``twitter_endpoint``: it is sent once, outside the crawl's walks."""
        return None

    def parse_token_user(self, body: bytes) -> str | None:
        """The id of the token's user in a :meth:`token_user` answer (None: none readable)."""
        return None
