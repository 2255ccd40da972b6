"""The ``twitter`` spider: plans the import of an account's world (or of several accounts').

``scrapy crawl twitter -a handle=NAME [-a parts=...] [-a limit=N] [-a following_tweets=N]``;
``-a handles=a,b,c`` or ``-a handles_file=PATH`` import several accounts in one crawl, each on
its own (:mod:`twitter_crawler.spiders.accounts`): one that cannot be imported is skipped and
named, and a timeline they share (an account several of them follow) is read once.

The user comes first (its profile); its counts decide how followers and followings are read;
then its own timeline and the timeline of everyone it follows. A list the store read in full
recently is read newest first until the new follows are known
(:mod:`twitter_crawler.spiders.contacts`, ``TWITTER_CONTACTS_FULL_REFRESH``). The spider knows the order of
things, not the API's shapes nor its version: requests, the reading of answers, paging and the
contacts strategy all come from the API contract (:class:`~twitter_crawler.api.TwitterApi`,
chosen by ``TWITTER_API_VERSION``).

Error answers never reach the callbacks: ``TwitterErrorMiddleware`` turns them into a skip, a
retry or a close with a named reason. Every position in a walk travels in ``cb_kwargs`` as a
plain dict, so the crawl can be paused and resumed with ``JOBDIR``.

Each callback's items leave as one :class:`~twitter_crawler.items.Answer` (see
:func:`one_item_per_answer`), ahead of the requests it made.
"""

from __future__ import annotations

import functools
import logging
import time
import uuid
from typing import TYPE_CHECKING, Any

from scrapy import Request, Spider
from scrapy.exceptions import CloseSpider

from twitter_crawler.api import from_settings
from twitter_crawler.exceptions import MalformedPayload, TwitterAPIError
from twitter_crawler.items import Answer, ContactsPage, Edge, TimelineWatermark, ref, watermark_key
from twitter_crawler.spiders.accounts import Accounts
from twitter_crawler.spiders.arguments import parse_arguments
from twitter_crawler.spiders.contacts import (
    PAGE_GROWTH,
    SECONDS_PER_DAY,
    ContactsPlanner,
    contacts_loaded,
)

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable, Iterator
    from typing import Self

    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from twisted.python.failure import Failure

    from twitter_crawler.api import TwitterApi
    from twitter_crawler.api.pages import IdsPage, UsersPage

logger = logging.getLogger(__name__)


def one_item_per_answer(callback: Callable[..., Iterator[Any]]) -> Callable[..., Iterator[Any]]:
    """Gathers what a callback yields into one :class:`Answer` (first) and its requests.

    Measured (BENCHMARKS.md): Scrapy's per-item path was most of the crawl's CPU; one item per
    answer instead of ~5 per tweet made the crawl about 2.7 times cheaper. The order of the items
    is kept, so a watermark still reaches the store behind the tweets it covers.
    """

    @functools.wraps(callback)  # the name stays, so JOBDIR can still find the callback
    def wrapper(self: TwitterSpider, response: Response, **kwargs: Any) -> Iterator[Any]:
        items: list[Any] = []
        requests: list[Request] = []
        for out in callback(self, response, **kwargs):
            (requests if isinstance(out, Request) else items).append(out)
        if items:
            yield Answer(items)
        yield from requests

    return wrapper


class TwitterSpider(Spider):
    name = "twitter"
    api: TwitterApi
    #: TWITTER_CONTACTS_STRATEGY: auto, list or ids.
    contacts_strategy: str
    #: Full or newest-first reads of the lists (TWITTER_CONTACTS_FULL_REFRESH, the store's state).
    contacts: ContactsPlanner
    #: The accounts imported and what became of each.
    accounts: Accounts

    def __init__(
        self,
        handle: str | None = None,
        parts: str | None = None,
        limit: str | None = None,
        following_tweets: str | None = None,
        handles: str | None = None,
        handles_file: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        args = parse_arguments(handle, parts, limit, following_tweets, handles, handles_file)
        self.handles = args.handles
        self.handle = args.handle  # the first: with one handle, the one
        self.parts = args.parts
        self.limit = args.limit
        self.following_tweets = args.following_tweets
        # The accounts whose timeline this crawl asked for: a newest-first followings walk asks
        # for the stored followings' timelines at its end, except those.
        self._timelines_asked: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Self:
        spider = super().from_crawler(crawler, *args, **kwargs)
        settings = crawler.settings
        # Both checked (and written as "1.1"/"2", "auto"/"list"/"ids") at start-up by
        # twitter_crawler.settings.check.
        spider.api = from_settings(settings)
        spider.contacts_strategy = settings.get("TWITTER_CONTACTS_STRATEGY")
        spider.contacts = ContactsPlanner(settings.getfloat("TWITTER_CONTACTS_FULL_REFRESH"))
        crawler.signals.connect(spider.contacts.load, signal=contacts_loaded)
        spider.accounts = Accounts(spider.handles, crawler)
        return spider

    async def start(self) -> AsyncIterator[Any]:
        self.accounts.started()
        for handle in self.handles:
            # Not dont_filter: on a JOBDIR resume the dupefilter knows it was done already.
            request = self.api.user(handle, self.parse_user, self.user_failed)
            request.meta["twitter_handle"] = handle
            yield request

    def user_failed(self, failure: Failure) -> None:
        """An account's profile could not be fetched at all: without it nothing of that account
        can be imported."""
        if isinstance(failure.value, (TwitterAPIError, MalformedPayload)):
            # An answer, not a transport failure: TwitterErrorMiddleware decides.
            failure.raiseException()
        request = getattr(failure, "request", None)
        handle = request.meta.get("twitter_handle", self.handle) if request else self.handle
        error = failure.getErrorMessage() or (failure.type or Exception).__name__
        if self.accounts.several:
            self.accounts.skip(handle, "unavailable",
                               f"Twitter could not be reached for its profile ({error}) even "
                               "after retries; run the same command again later")
            return
        logger.error(
            "Twitter could not be reached for @%(handle)s (%(error)s) even after retries: "
            "nothing can be imported now. Check TWITTER_API_URL and the network, then run the "
            "same command again.",
            {"handle": handle, "error": error},
        )
        raise CloseSpider("twitter_unavailable")

    # -- the account ---------------------------------------------------------------------------

    @one_item_per_answer
    def parse_user(self, response: Response) -> Iterator[Any]:
        # An error inside a 200 (a handle unknown or suspended) is raised for the error middleware.
        account = self.api.parse_profile(response.body)
        account.isMe = True
        me = account.externalId
        self.accounts.imported(response.meta.get("twitter_handle", self.handle), me)
        # Always imported: contacts and tweets need it as the endpoint of their edges.
        yield account
        strategies = self.api.contacts_strategies(
            account.followersCount or 0, account.followingCount or 0, self.limit,
            self.contacts_strategy,
        )
        self.crawler.stats.set_value("twitter/spider/strategy/follower", strategies["follower"])
        self.crawler.stats.set_value("twitter/spider/strategy/following", strategies["following"])
        # Summed over the accounts of the crawl, for the progress line.
        self.crawler.stats.inc_value("twitter/spider/known/followers", account.followersCount or 0)
        self.crawler.stats.inc_value("twitter/spider/known/following", account.followingCount or 0)

        if "timeline" in self.parts and self.limit != 0:
            cap = self.api.timeline_cap
            wanted = min(cap, self.limit if self.limit is not None else cap)
            yield self.timeline_request(me, me, wanted, own=True)
        for kind, part in (("follower", "followers"), ("following", "following")):
            timelines = kind == "following" and "following_timelines" in self.parts
            timelines = timelines and self.following_tweets > 0
            if part not in self.parts and not timelines:
                continue
            if self.limit == 0:
                continue
            count = (account.followersCount if kind == "follower" else account.followingCount) or 0
            newest_first = self.contacts.newest_first(
                me, kind, imported=part in self.parts, limit=self.limit
            )
            walk = {
                "me": me,
                "kind": kind,
                "user_id": me,
                "strategy": (strategies[kind] if part in self.parts
                             else self.api.timelines_only_strategy),
                "cursor": "-1",
                "walk_id": uuid.uuid4().hex,
                "fetched": 0,
                "limit": self.limit,
                "import": part in self.parts,
                "timelines": timelines,
                "newest_first": newest_first,
                # Accounts wanted on this page (None: the API's full page).
                "count": self.contacts.first_page(me, kind, count) if newest_first else None,
            }
            self._log_refresh(walk, part, count)
            yield self.api.contacts(walk, self.parse_contacts)

    # -- followers and followings --------------------------------------------------------------

    def _log_refresh(self, walk: dict[str, Any], part: str, count: int) -> None:
        """Says how a stored list is read, and counts it (``twitter/spider/refresh/<kind>``)."""
        kind, me = walk["kind"], walk["me"]
        last = self.contacts.last_full_read(me, kind)
        if not walk["import"] or last is None:
            return  # a first import, or no store: read in full, nothing to say
        days = max(0.0, (time.time() - last) / SECONDS_PER_DAY)
        every = self.contacts.full_refresh_days
        if walk["newest_first"]:
            self.crawler.stats.set_value(f"twitter/spider/refresh/{kind}", "newest_first")
            # What this walk expects to read, for the progress line, instead of the profile's
            # count (summed over the accounts of the crawl).
            self.crawler.stats.inc_value(f"twitter/spider/known/{part}", walk["count"] - count)
            logger.info(
                "%(part)s of @%(handle)s: last read in full %(days).1f days ago; reading the "
                "newest until known ones (a full read, which also sees unfollows, is due after "
                "%(every)g days: TWITTER_CONTACTS_FULL_REFRESH)",
                {"part": part.capitalize(), "handle": self.accounts.handle_of(me), "days": days,
             "every": every},
            )
            return
        self.crawler.stats.set_value(f"twitter/spider/refresh/{kind}", "full")
        logger.info(
            "%(part)s of @%(handle)s: last read in full %(days).1f days ago; reading them in full "
            "(TWITTER_CONTACTS_FULL_REFRESH=%(every)g)",
            {"part": part.capitalize(), "handle": self.accounts.handle_of(me), "days": days,
             "every": every},
        )

    def _take(self, walk: dict[str, Any], found: list[Any]) -> list[Any]:
        """What ``limit`` still allows of a page (ids or accounts), counted into the walk."""
        if walk["limit"] is not None:
            found = found[: max(0, walk["limit"] - walk["fetched"])]
        walk["fetched"] += len(found)
        return found

    def _next_page(
        self, walk: dict[str, Any], page: UsersPage | IdsPage, listed: list[str]
    ) -> Iterator[Any]:
        if walk.get("newest_first"):
            yield from self._next_newest(walk, page, listed)
            return
        limited = walk["limit"] is not None and walk["fetched"] >= walk["limit"]
        if not page.is_last and not limited:
            yield self.api.contacts({**walk, "cursor": page.next_cursor}, self.parse_contacts)

    def _next_newest(
        self, walk: dict[str, Any], page: UsersPage | IdsPage, listed: list[str]
    ) -> Iterator[Any]:
        """A newest-first walk goes on until a page holds a stored account, or the list ends."""
        kind = walk["kind"]
        known = self.contacts.known(walk["me"], kind)
        new = sum(1 for user_id in listed if user_id not in known)
        self.crawler.stats.inc_value(f"twitter/spider/refresh/{kind}/new", new)
        stop = new < len(listed)
        if stop:
            self.crawler.stats.inc_value(f"twitter/spider/refresh/{kind}/stopped_at_known")
        if not stop and not page.is_last:
            count = (walk["count"] or 1) * PAGE_GROWTH
            yield self.api.contacts(
                {**walk, "cursor": page.next_cursor, "count": count}, self.parse_contacts
            )
            return
        if walk["timelines"]:
            # The followings below the new ones were not read again: their timelines still are.
            for user_id in sorted(known - self._timelines_asked, key=lambda i: (len(i), i)):
                yield from self.following_timeline(walk["me"], user_id)

    def _contacts_page(
        self, walk: dict[str, Any], ids: list[str], page: UsersPage | IdsPage
    ) -> ContactsPage:
        complete = page.is_last and walk["limit"] is None
        return ContactsPage(walk["me"], walk["kind"], walk["walk_id"], ids, complete)

    @one_item_per_answer
    def parse_contacts(self, response: Response, walk: dict[str, Any]) -> Iterator[Any]:
        if walk["strategy"] == "list":
            page = self.api.parse_users_page(response.body, me_id=walk["me"])
            if page.error is not None:
                raise page.error  # a protected list, in a 200: TwitterErrorMiddleware decides
            users = self._take(walk, page.users)
            listed = [u.externalId for u in users]
            if walk["import"]:
                yield from self._accounts(walk, users)
                if not walk.get("newest_first"):
                    # Never for a newest-first walk: it is not complete, it removes nothing.
                    yield self._contacts_page(walk, listed, page)
            elif walk["timelines"]:
                for user in users:
                    yield from self.following_timeline(walk["me"], user.externalId, user.handle)
            yield from self._next_page(walk, page, listed)
            return
        ids_page = self.api.parse_ids_page(response.body)
        ids = self._take(walk, ids_page.ids)
        if walk["import"]:
            wanted = ids
            if walk.get("newest_first"):
                # The stored ones keep their accounts and edges: only the new are looked up.
                known = self.contacts.known(walk["me"], walk["kind"])
                wanted = [user_id for user_id in ids if user_id not in known]
            batch = self.api.lookup_batch
            for start in range(0, len(wanted), batch):
                yield self.api.lookup(wanted[start : start + batch], walk, self.parse_lookup)
            if not walk.get("newest_first"):
                yield self._contacts_page(walk, ids, ids_page)
        elif walk["timelines"]:
            for user_id in ids:
                yield from self.following_timeline(walk["me"], user_id)
        yield from self._next_page(walk, ids_page, ids)

    @one_item_per_answer
    def parse_lookup(
        self, response: Response, walk: dict[str, Any], ids: list[str]
    ) -> Iterator[Any]:
        accounts = self.api.parse_lookup(response.body, me_id=walk["me"])
        yield from self._accounts(walk, accounts)

    def _accounts(self, walk: dict[str, Any], accounts: list[Any]) -> Iterator[Any]:
        me_ref = ref("Account", walk["me"])
        for account in accounts:
            yield account
            yield Edge(walk["kind"], me_ref, ref("Account", account.externalId))
        if walk["timelines"]:
            for account in accounts:
                yield from self.following_timeline(walk["me"], account.externalId, account.handle)

    # -- timelines -----------------------------------------------------------------------------

    def following_timeline(self, me: str, user_id: str, handle: str | None = None) -> Iterator[Request]:
        """The timeline of an account ``me`` follows, unless this crawl asked for it already
        (several of its accounts follow it) or it is one of the crawl's accounts, whose own
        walk reads more of it."""
        if user_id in self._timelines_asked or self.accounts.is_handle(handle):
            return
        yield self.timeline_request(me, user_id, self.following_tweets)

    def timeline_request(self, me: str, user_id: str, wanted: int, *, own: bool = False) -> Request:
        """The first page of a timeline walk. ``WatermarkMiddleware`` adds the stored since_id."""
        self._timelines_asked.add(user_id)
        walk = {"me": me, "user_id": user_id, "wanted": wanted, "fetched": 0, "since_id": None,
                "max_id": None, "newest": None, "own": own, "first": True}
        return self.api.timeline(walk, self.parse_timeline)

    @one_item_per_answer
    def parse_timeline(self, response: Response, walk: dict[str, Any]) -> Iterator[Any]:
        page = self.api.parse_timeline(response.body, walk)
        if page.error is not None:
            raise page.error  # a protected timeline, in a 200: TwitterErrorMiddleware decides
        for reason in page.skipped:
            self.crawler.stats.inc_value("twitter/spider/skipped_objects")
            logger.warning("Skipped an object in %(url)s: %(reason)s",
                           {"url": response.url, "reason": reason})
        yield from page.items
        ids = [int(i) for i in page.tweet_ids]
        walk = {**walk, "first": False}
        if ids:
            walk["fetched"] += len(ids)
            newest = max(ids)
            if walk["newest"] is None or newest > int(walk["newest"]):
                walk["newest"] = str(newest)
            if walk["fetched"] < walk["wanted"]:
                position = self.api.next_timeline_position(page)
                if position is not None:
                    walk.update(position)
                    yield self.api.timeline(walk, self.parse_timeline)
                    return
        self.crawler.stats.inc_value("twitter/spider/timelines_complete")
        cap = self.api.timeline_cap
        if walk["since_id"] and walk["fetched"] >= cap:
            logger.warning(
                "Timeline of user %(user)s: more than %(cap)d tweets since the last import; "
                "Twitter serves only the newest %(cap)d, older new tweets were not reachable",
                {"user": walk["user_id"], "cap": cap},
            )
        since = walk["newest"] or walk["since_id"]
        if since:
            key = watermark_key(walk["user_id"], whole=bool(walk.get("own")))
            yield TimelineWatermark(key, since)
