"""The project's exception vocabulary, beside Scrapy's (NotConfigured, IgnoreRequest, CloseSpider).

Store errors live in :mod:`twitter_crawler.stores.base`.
"""

from __future__ import annotations

from scrapy.exceptions import IgnoreRequest


class TwitterAPIError(Exception):
    """An answer of the Twitter API that is not data. Raised by the API modules' parsers."""

    def __init__(self, status: int, codes: tuple[int, ...] = (), message: str = "") -> None:
        super().__init__(f"HTTP {status} codes={list(codes)} {message}".strip())
        self.status = status
        self.codes = codes
        self.message = message


class NotInThisVersion(Exception):
    """What was asked of the API contract does not exist in this API version: v2 has no users
    lookup nor pages of ids, v1.1 is not billed per resource. The contract's own choices (its
    contacts strategy, its billing) never lead there; reaching it is a mistake, said plainly."""


class MalformedPayload(ValueError):
    """A body that is not the JSON the endpoint promises (truncated, HTML, wrong shape)."""


class SendingStopped(IgnoreRequest):
    """An API request not sent because a fatal answer stopped the crawl's sending
    (:mod:`twitter_crawler.fatal`). The rate-limit middleware hands it back to the scheduler;
    without that middleware it is dropped quietly, as Scrapy drops an ignored request."""
