"""OAuth 1.0a signing of every attempt of every request to the Twitter API.

Settings read (all in :mod:`twitter_crawler.settings.defaults`):

* ``TWITTER_API_URL``: only requests to this scheme, host and port are signed;
* ``TWITTER_CONSUMER_KEY``, ``TWITTER_CONSUMER_SECRET``, ``TWITTER_ACCESS_TOKEN``,
  ``TWITTER_ACCESS_SECRET``: the user-context credentials;
* ``TWITTER_API_VERSION``, ``TWITTER_BEARER_TOKEN``: with an API version that takes one
  (:attr:`~twitter_crawler.api.TwitterApi.accepts_bearer_token`: v2) and no user-context
  credentials, requests carry the app-only bearer token instead of a signature.

Signing happens at download time, after the rate-limit middleware has released the request, so a
request parked for 15 minutes still goes out with a fresh timestamp and nonce, and every retry is
signed anew. The ``Authorization`` header is taken off the request again when its answer (or
failure) comes back: retries are copies of the request, and a copy that carries an old signature
would end up in a JOBDIR queue.

Missing credentials close the crawl before the first request (``twitter_missing_credentials``),
naming the missing setting, whatever the host: the crawler knows no credentials of its own, not
even a local emulator's (whoever starts a crawl against one passes the emulator's).

Request meta: ``twitter_dont_sign`` (bool) leaves a request unsigned.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Literal, cast
from urllib.parse import urlsplit

from oauthlib.oauth1 import Client
from scrapy import signals
from scrapy.exceptions import CloseSpider, NotConfigured

from twitter_crawler.api import from_settings

if TYPE_CHECKING:
    from typing import Self

    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Response

logger = logging.getLogger(__name__)
#: The HTTP methods oauthlib signs (its stubs' type for a method).
HTTPMethod = Literal["CONNECT", "DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT", "TRACE"]
# oauthlib logs the signature base string, access token included, at DEBUG: a crawl at DEBUG
# level must not write it anywhere.
logging.getLogger("oauthlib").setLevel(logging.INFO)

CREDENTIAL_SETTINGS = (
    "TWITTER_CONSUMER_KEY",
    "TWITTER_CONSUMER_SECRET",
    "TWITTER_ACCESS_TOKEN",
    "TWITTER_ACCESS_SECRET",
)


def api_origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme, parts.netloc


def missing_credentials(values: dict[str, str]) -> list[str]:
    return [name for name in CREDENTIAL_SETTINGS if not values.get(name)]


class OAuth1Middleware:
    def __init__(
        self,
        crawler: Crawler,
        api_url: str,
        credentials: dict[str, str],
        *,
        accepts_bearer_token: bool = False,
        bearer_token: str = "",
    ) -> None:
        self.crawler = crawler
        self.origin = api_origin(api_url)
        self.missing = missing_credentials(credentials)
        # Some versions (v2) also take an app-only bearer token; user context wins over it.
        self._bearer = bearer_token if accepts_bearer_token and self.missing else ""
        if self._bearer:
            self.missing = []
        self._or_bearer = " (or TWITTER_BEARER_TOKEN alone)" if accepts_bearer_token else ""
        # oauthlib's Client holds the secrets; nothing else in the crawl keeps a copy.
        self._client = Client(
            credentials.get("TWITTER_CONSUMER_KEY", ""),
            client_secret=credentials.get("TWITTER_CONSUMER_SECRET", ""),
            resource_owner_key=credentials.get("TWITTER_ACCESS_TOKEN", ""),
            resource_owner_secret=credentials.get("TWITTER_ACCESS_SECRET", ""),
        )

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        if getattr(crawler.spidercls, "offline", False):
            raise NotConfigured  # a spider that sends no API request (the archive import)
        settings = crawler.settings
        credentials = {name: settings.get(name) or "" for name in CREDENTIAL_SETTINGS}
        mw = cls(
            crawler,
            settings.get("TWITTER_API_URL"),
            credentials,
            accepts_bearer_token=from_settings(settings).accepts_bearer_token,
            bearer_token=settings.get("TWITTER_BEARER_TOKEN") or "",
        )
        crawler.signals.connect(mw.spider_opened, signal=signals.spider_opened)
        return mw

    def spider_opened(self) -> None:
        if self.missing:
            # "set A, B (or TWITTER_BEARER_TOKEN alone)": the bearer token is the way out, not
            # one more name of the list.
            names = ", ".join(self.missing) + self._or_bearer
            logger.error(
                "Missing Twitter credentials: set %(names)s (with -s, an environment variable "
                "or settings_local.py; see settings_local.example.py)",
                {"names": names},
            )
            raise CloseSpider("twitter_missing_credentials")

    def _is_api(self, request: Request) -> bool:
        parts = urlsplit(request.url)
        return (parts.scheme, parts.netloc) == self.origin

    def process_request(self, request: Request) -> None:
        if request.meta.get("twitter_dont_sign") or not self._is_api(request):
            return
        if self._bearer:
            request.headers["Authorization"] = f"Bearer {self._bearer}"
            request.meta["twitter_auth"] = "bearer"  # an error message names the right setting
            self.crawler.stats.inc_value("twitter/oauth/bearer")
            return
        headers = {}
        body: str | None = None
        if request.method == "POST" and request.body:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            body = request.body.decode("ascii")
        method = cast("HTTPMethod", request.method)  # oauthlib's stubs name the methods it knows
        _, signed, _ = self._client.sign(request.url, method, body, headers)
        request.headers["Authorization"] = signed["Authorization"]
        self.crawler.stats.inc_value("twitter/oauth/signed")

    def process_response(self, request: Request, response: Response) -> Response:
        request.headers.pop(b"Authorization", None)
        return response

    def process_exception(self, request: Request, exception: Exception) -> None:
        request.headers.pop(b"Authorization", None)
