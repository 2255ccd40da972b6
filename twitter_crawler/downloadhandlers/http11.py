"""Scrapy's HTTP/1.1 download handler, minus Twisted's silent re-send of a request.

When a kept-alive connection turns out to be closed, Twisted's connection pool re-sends an
idempotent request once on a new connection, below every downloader middleware, with the same
headers. For a signed request that means the same OAuth nonce twice, which Twitter refuses as a
replay (401). Without the silent re-send the failure reaches RetryMiddleware like any dropped
connection, and the retry goes through the OAuth middleware again: a fresh nonce.

Verified against the emulator with dropped connections and nonce checking
(``tests/errors/test_crawl_faults.py``): with Scrapy's stock handler the copies come back 401
code 32; with this one there are none.

It is also the last gate before the wire: once a fatal answer stopped the crawl's sending
(:mod:`twitter_crawler.fatal`: a usage cap, credits exhausted), an API request that still waits
in a downloader slot's queue (it passed the middlewares before the answer came) is not sent but
raises :class:`~twitter_crawler.exceptions.SendingStopped`; the rate-limit middleware hands it
back to the scheduler. Media downloads (no ``twitter_endpoint``) are not the API's: they go on.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrapy.core.downloader.handlers.http11 import HTTP11DownloadHandler

from twitter_crawler.exceptions import SendingStopped
from twitter_crawler.fatal import sending_stopped

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Response


class NoResendHTTP11DownloadHandler(HTTP11DownloadHandler):
    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self._pool.retryAutomatically = False

    async def download_request(self, request: Request) -> Response:
        if request.meta.get("twitter_endpoint"):
            why = sending_stopped(self.crawler)
            if why:
                raise SendingStopped(f"not sent: the crawl stopped sending ({why})")
        return await super().download_request(request)
