"""Turns Twitter's error answers into outcomes before any callback sees them.

As Scrapy's HttpErrorMiddleware does for status codes, but reading Twitter's error bodies
(``{"errors": [{"code": 88, ...}]}``, ``{"error": "Not authorized."}``):

* fatal conditions close the crawl with a named reason and one clear line: bad credentials
  (``twitter_bad_credentials``: codes 32, 89, 135, 215), the handle not found
  (``twitter_user_not_found``: code 50), the handle suspended (``twitter_user_suspended``: code
  63), an access level without v1.1 reads (``twitter_access_level``: code 453), the account's
  profile not to be had even after retries (``twitter_unavailable``); with several accounts
  (``-a handles=``) these last three skip that account instead, with one line, and the others go
  on (:mod:`twitter_crawler.spiders.accounts`; a protected account's refused lists and timeline
  name it too);
* except a 401 code 32 once the credentials have worked (an answer of the API got through):
  Twitter answers a repeated nonce that way, and a copy of a signed request can be re-sent below
  the middlewares (SCRAPY_NOTES §7). That request is retried with a fresh signature, like a
  failed download (``RETRY_TIMES``, with the retry backoff), and only a refusal that persists
  closes the crawl;
* an answer that means "stop", not "wait" (X_API_2026.md §4; ``api.problems.stop_problem``)
  closes the crawl: a spent usage cap (``twitter_usage_capped``: HTTP 429 ``usage-capped``,
  whose rate-limit headers still show budget) or any other 4xx that waiting cannot cure
  (``twitter_api_problem``: a 402, an unknown problem type, e.g. credits exhausted), with one
  line naming the cap's period and scope, X's ``title`` and ``detail``, and what to do. The
  request that met it goes back to the scheduler (a JOBDIR resumes with it);
* after any fatal answer no API request goes out (:mod:`twitter_crawler.fatal`): requests
  waiting in the middlewares or queued in the downloader are handed back, not sent;
* a 429 that reaches the spider (rate-limit middleware off) is retried like a 5xx, a bounded
  number of times (``RETRY_TIMES``, with the retry backoff), never in a loop;
* a protected timeline (401 without a code) is skipped with a log line; a followed account that
  is protected, suspended or gone is skipped and the crawl goes on;
* a body that is not the JSON it should be is retried a bounded number of times, then counted
  and logged as a failure of that request.

The API contract (:class:`~twitter_crawler.api.TwitterApi` of ``TWITTER_API_VERSION``) reads
the error bodies and words the access-level refusal; nothing here depends on the version.

Stats: ``twitter/errors/<outcome>`` (``usage_capped``, ``api_problem``, ...) and
``twitter/errors/code/<code>``
(``auth_retried``: 401 code 32 retried with a fresh signature).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from scrapy.downloadermiddlewares.retry import get_retry_request
from scrapy.exceptions import CloseSpider

from twitter_crawler.api import ProblemError, from_settings, stop_problem, stop_problem_of
from twitter_crawler.exceptions import MalformedPayload, TwitterAPIError
from twitter_crawler.fatal import USAGE_CAPPED, stop_reason, stop_sending

if TYPE_CHECKING:
    from collections.abc import Iterable
    from typing import Self

    from scrapy import Request, Spider
    from scrapy.crawler import Crawler
    from scrapy.http import Response

    from twitter_crawler.api import Problem, TwitterApi
    from twitter_crawler.spiders.accounts import Accounts

logger = logging.getLogger(__name__)

CREDENTIAL_CODES = {32, 89, 135, 215}
CREDENTIAL_SETTINGS = "TWITTER_CONSUMER_KEY, TWITTER_CONSUMER_SECRET, TWITTER_ACCESS_TOKEN, TWITTER_ACCESS_SECRET"


class SkipResponse(Exception):
    """The answer is an expected dead end (a protected timeline): nothing to parse, nothing lost."""


class TwitterErrorMiddleware:
    def __init__(self, crawler: Crawler, api: TwitterApi) -> None:
        self.crawler = crawler
        self.api = api
        # Which request an answer belongs to, by its endpoint (meta["twitter_endpoint"]). The
        # errors of both versions carry the v1.1 codes of their meaning, so the rules are one.
        self.profile_endpoint = api.profile_endpoint
        self.timeline_endpoint = api.timeline_endpoint
        self.closing = False
        self.credentials_work = False  # an answer of the API got through (2xx)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler, from_settings(crawler.settings))

    def process_spider_input(self, response: Response) -> None:
        if 200 <= response.status < 300:
            self.credentials_work = True
            return
        # Read the same way over both versions, as the rate-limit middleware reads it: an answer
        # it stopped the crawl's sending for must close the crawl here, whatever the version.
        stop = stop_problem_of(response.status, response.body)
        if stop is not None:
            raise ProblemError(response.status, [stop])
        try:
            self.api.check_error(response.status, response.body)
        except TwitterAPIError as error:
            raise error from None
        raise TwitterAPIError(response.status)

    def process_spider_exception(
        self, response: Response, exception: Exception
    ) -> Iterable[Any] | None:
        if isinstance(exception, TwitterAPIError):
            return self._api_error(response, exception)
        if isinstance(exception, MalformedPayload):
            return self._malformed(response, exception)
        return None

    # -- outcomes ------------------------------------------------------------------------------

    @property
    def _spider(self) -> Spider:
        # Answers come only while the crawl's spider is open.
        spider = self.crawler.spider
        assert spider is not None
        return spider

    def _stat(self, name: str) -> None:
        self.crawler.stats.inc_value(f"twitter/errors/{name}")

    def _fatal(self, reason: str, message: str, args: dict[str, Any]) -> None:
        self._stat(reason.removeprefix("twitter_"))
        # Every further request would meet the same refusal: none goes out from now.
        stop_sending(self.crawler, reason)
        if not self.closing:
            self.closing = True
            logger.error(message, args)
        raise CloseSpider(reason)

    def _handle(self, request: Request) -> str:
        """The handle a profile request asked for."""
        return str(request.meta.get("twitter_handle") or getattr(self.crawler.spider, "handle", "?"))

    def _account_failed(self, skip: str, reason: str, message: str, args: dict[str, Any]) -> None:
        """An account's profile is not to be had: with one account the crawl ends (``reason``),
        with several that account is skipped (``skip``) and the others go on."""
        accounts: Accounts | None = getattr(self.crawler.spider, "accounts", None)
        if accounts is None or not accounts.several:
            self._fatal(reason, message, args)
        assert accounts is not None
        self._stat(reason.removeprefix("twitter_"))
        why = {"not_found": "it does not exist on Twitter (check the handle)",
               "suspended": "it is suspended by Twitter: there is nothing to import",
               "unavailable": "Twitter gave no readable profile even after retries (run the "
                              "same command again later)"}[skip]
        accounts.skip(args["handle"], skip, why)

    def _root_protected(self, request: Request) -> None:
        """A protected list or own timeline of one of several accounts imported: named."""
        accounts: Accounts | None = getattr(self.crawler.spider, "accounts", None)
        walk = request.cb_kwargs.get("walk") or {}
        me = walk.get("me")
        if accounts is None or not accounts.several or me is None or walk.get("user_id") != me:
            return
        accounts.skip(accounts.handle_of(me), "protected",
                      "protected: its profile is imported, its followers, followings and "
                      "tweets are not")

    def _api_error(self, response: Response, error: TwitterAPIError) -> Iterable[Any]:  # noqa: PLR0912
        request = response.request
        assert request is not None
        endpoint = request.meta.get("twitter_endpoint", "?")
        for code in error.codes:
            self.crawler.stats.inc_value(f"twitter/errors/code/{code}")
        codes = set(error.codes)
        details = {"endpoint": endpoint, "status": error.status, "codes": sorted(codes),
                   "message": error.message or "no message", "url": request.url}
        if 453 in codes:
            self._fatal("twitter_access_level", self.api.access_level_message, details)
        stop = None
        if isinstance(error, ProblemError):
            stop = stop_problem(error.status, error.problems)
        if stop is not None:
            self._stop(request, stop, details)
        if codes == {32} and error.status == 401 and self.credentials_work:
            # Not the credentials (they worked): a refused signature, most likely a nonce
            # Twitter saw already. Retried like a failed download (RETRY_TIMES, with backoff);
            # the copy is signed anew on its way out. Only a refusal that persists is fatal.
            retry = get_retry_request(
                request, spider=self._spider, reason="401 code 32 (repeated nonce?)",
                stats_base_key="twitter/errors/retry", give_up_log_level=logging.WARNING,
            )
            if retry is not None:
                self._stat("auth_retried")
                logger.warning(
                    "Twitter refused the signature of %(url)s (HTTP 401, code 32) although the "
                    "credentials worked: retrying it with a fresh signature (a repeated nonce?)",
                    details)
                return [retry]
        if codes & CREDENTIAL_CODES or (error.status == 401 and endpoint == self.profile_endpoint):
            if codes == {135}:
                self._fatal(
                    "twitter_bad_credentials",
                    "Twitter refused the request's timestamp (HTTP %(status)s, codes %(codes)s: "
                    "%(message)s): this machine's clock is off by more than Twitter accepts. "
                    "Set the clock right (e.g. turn on NTP time synchronisation).",
                    details,
                )
            # The app-only bearer token, when that is what was sent (API v2 without OAuth).
            bearer = request.meta.get("twitter_auth") == "bearer"
            self._fatal(
                "twitter_bad_credentials",
                "Twitter refused the credentials (HTTP %(status)s, codes %(codes)s: "
                "%(message)s). Check "
                + ("TWITTER_BEARER_TOKEN" if bearer else CREDENTIAL_SETTINGS) + ".",
                details,
            )
        if endpoint == self.profile_endpoint:
            details["handle"] = self._handle(request)
            if error.status == 404 or 50 in codes:
                self._account_failed(
                    "not_found", "twitter_user_not_found",
                    "Handle @%(handle)s does not exist on Twitter (HTTP %(status)s, codes "
                    "%(codes)s): check the handle argument.", details)
                return []
            if 63 in codes:
                self._account_failed(
                    "suspended", "twitter_user_suspended",
                    "Handle @%(handle)s is suspended by Twitter (code 63): "
                    "there is nothing to import.", details)
                return []
        if error.status == 429:
            # The rate-limit middleware parks 429s; one that slips through (the middleware is
            # off) is retried a bounded number of times, after the retry backoff.
            self._stat("ratelimited")
            retry = get_retry_request(
                request, spider=self._spider, reason="429 rate limited",
                stats_base_key="twitter/errors/retry",
            )
            if retry is not None:
                return [retry]
        timeline = endpoint == self.timeline_endpoint
        if (timeline and error.status == 401) or 179 in codes:
            self._stat("protected")
            what = "Timeline" if timeline else "Contacts list"
            logger.info("%(what)s of user %(user)s is protected: skipped (its profile and edges "
                        "are imported)", {"what": what, "user": _user(request)})
            self._root_protected(request)
            return []
        if endpoint == self.api.lookup_endpoint and error.status == 404:
            self._stat("lookup_empty")
            logger.info("users/lookup found none of %(n)d accounts (suspended or gone)",
                        {"n": len(request.cb_kwargs.get("ids", []))})
            return []
        if timeline and (error.status in (403, 404) or codes & {34, 50, 63}):
            self._stat("unavailable")
            logger.info("Timeline of user %(user)s is unavailable (HTTP %(status)s, codes "
                        "%(codes)s: %(message)s): skipped", {**details, "user": _user(request)})
            return []
        if endpoint == self.profile_endpoint:
            details["handle"] = self._handle(request)
            self._account_failed(
                "unavailable", "twitter_unavailable",
                "Twitter gave no profile for @%(handle)s (HTTP %(status)s, codes "
                "%(codes)s: %(message)s) even after retries: nothing can be imported "
                "now. Run the same command again later.", details)
            return []
        self._stat("failed")
        logger.error("Gave up on %(url)s: HTTP %(status)s, codes %(codes)s: %(message)s", details)
        return []

    def _stop(self, request: Request, problem: Problem, details: dict[str, Any]) -> None:
        """Closes the crawl on an answer that means "stop" (never returns)."""
        # The request that met the refusal is not done: back to the scheduler, so a JOBDIR
        # resumes with it (answers to requests in flight come here too, after the first).
        engine = self.crawler.engine
        if engine is not None:
            engine.crawl(request.replace(dont_filter=True))
        reason = stop_reason(problem)
        details = {**details, "title": problem.title or "no title",
                   "detail": problem.detail or "no detail", "type": problem.type or "no type",
                   "period": problem.period or "(no period given)",
                   "scope": problem.scope or "(no scope given)"}
        if reason == USAGE_CAPPED:
            self._fatal(
                reason,
                "X refused %(endpoint)s: the %(period)s usage cap (scope %(scope)s) is spent "
                "(HTTP %(status)s, %(title)s: %(detail)s). Waiting for rate limits does not help "
                "until the cap resets: wait for the cap's reset or add credits / raise the cap "
                "in the developer console, then run the same command again (what was imported "
                "is kept; with JOBDIR the crawl resumes where it stopped).",
                details,
            )
        self._fatal(
            reason,
            "X refused %(endpoint)s with a problem waiting cannot cure (HTTP %(status)s, "
            "%(title)s: %(detail)s; type %(type)s): nothing more can be imported now. Check "
            "the app's credits, usage caps and access in the developer console, then run the "
            "same command again (what was imported is kept; with JOBDIR the crawl resumes "
            "where it stopped).",
            details,
        )

    def _malformed(self, response: Response, error: MalformedPayload) -> Iterable[Any]:
        request = response.request
        assert request is not None
        self._stat("malformed")
        retry = get_retry_request(
            request, spider=self._spider, reason="malformed_body",
            stats_base_key="twitter/errors/retry",
        )
        if retry is not None:
            return [retry]
        if request.meta.get("twitter_endpoint") == self.profile_endpoint:
            self._account_failed(
                "unavailable", "twitter_unavailable",
                "Twitter's profile answer for @%(handle)s is unreadable even after "
                "retries (%(error)s): nothing can be imported now. Run the same command "
                "again later.",
                {"handle": self._handle(request), "error": error})
            return []
        logger.error("Gave up on %(url)s: the body is not valid JSON (%(error)s)",
                     {"url": request.url, "error": error})
        self._stat("malformed_gave_up")
        return []


def _user(request: Request) -> str:
    walk = request.cb_kwargs.get("walk") or {}
    return str(walk.get("user_id", "?"))
