"""The ``twitter_plan`` spider (``scrapy plan -a handle=NAME``): one profile request (and
``/2/users/me`` when Owned Reads depend on it) through the crawl's middlewares, then the plan
of the import printed to stdout (:mod:`twitter_crawler.api.plan`). It imports nothing."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from scrapy import Spider

from twitter_crawler.api import from_settings
from twitter_crawler.api.plan import Arguments, Profile, Shape, report
from twitter_crawler.api.prices import parse_prices
from twitter_crawler.downloadermiddlewares.oauth import CREDENTIAL_SETTINGS, missing_credentials
from twitter_crawler.spiders.arguments import parse_arguments
from twitter_crawler.spiders.contacts import FIRST_PAGE

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator
    from typing import Self

    from scrapy.crawler import Crawler
    from scrapy.http import Response

    from twitter_crawler.api import TwitterApi
    from twitter_crawler.items import Account

logger = logging.getLogger(__name__)


class PlanSpider(Spider):
    name = "twitter_plan"
    api: TwitterApi

    def __init__(self, handle: str | None = None, parts: str | None = None,
                 limit: str | None = None, following_tweets: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        args = parse_arguments(handle, parts, limit, following_tweets)
        self.handle = args.handle
        self.args = Arguments(args.parts, args.limit, args.following_tweets)
        self.lines: list[str] = []
        self._account: Account | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Self:
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.api = from_settings(crawler.settings)
        return spider

    async def start(self) -> AsyncIterator[Any]:
        yield self.api.user(self.handle, self.parse_profile)

    def _owned_reads_possible(self) -> bool:
        s = self.crawler.settings
        credentials = {name: s.get(name) or "" for name in CREDENTIAL_SETTINGS}
        return (self.api.billed_per_resource and not missing_credentials(credentials)
                and s.getbool("TWITTER_COST_OWNED_READS"))

    def parse_profile(self, response: Response) -> Iterator[Any]:
        self._account = self.api.parse_profile(response.body)
        probe = self.api.token_user() if self._owned_reads_possible() else None
        if probe is None:
            self._plan(owned=False, users_me=False)
            return
        # Whose token it is decides Owned Reads (ten times cheaper): one more cheap request.
        yield probe.replace(callback=self.parse_me)

    def parse_me(self, response: Response) -> None:
        assert self._account is not None
        owner = self.api.parse_token_user(response.body) if response.status == 200 else None
        self._plan(owned=owner == self._account.externalId, users_me=True)

    def _plan(self, *, owned: bool, users_me: bool) -> None:
        assert self._account is not None
        s = self.crawler.settings
        api = self.api
        credentials = {name: s.get(name) or "" for name in CREDENTIAL_SETTINGS}
        # The OAuth middleware signs with user context when it has all four; a bearer token
        # otherwise (X's per-app quotas).
        quotas = api.app_quotas if missing_credentials(credentials) else api.quotas
        shape = Shape(
            endpoints={"profile": api.profile_endpoint, "timeline": api.timeline_endpoint,
                       "users/me": "users/me", **api.contacts_endpoints},
            contacts_page=api.contacts_page,
            timeline_page=api.timeline_page,
            timeline_cap=api.timeline_cap,
            quotas=dict(quotas),
            prices=(parse_prices(s.get("TWITTER_PRICES") or "") if api.billed_per_resource
                    else None),
            owned=owned,
            users_me=users_me,
            first_page=FIRST_PAGE,
            full_refresh_every_run=s.getfloat("TWITTER_CONTACTS_FULL_REFRESH") == 0,
        )
        account = self._account
        profile = Profile(account.followersCount or 0, account.followingCount or 0,
                          account.tweetCount or 0)
        self.lines = report(self.handle, profile, self.args, shape)
