"""Scrapy's HTTP/1.1 download handler, minus Twisted's silent re-send of a request.

When a kept-alive connection turns out to be closed, Twisted's connection pool re-sends an
idempotent request once on a new connection, below every downloader middleware, with the same
headers. For a signed request that means the same OAuth nonce twice, which Twitter refuses as a
replay (401). Without the silent re-send the failure reaches RetryMiddleware like any dropped
connection, and the retry goes through the OAuth middleware again: a fresh nonce.

Verified against the emulator with dropped connections and nonce checking
(``tests/errors/test_crawl_faults.py``): with Scrapy's stock handler the copies come back 401
code 32; with this one there are none.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrapy.core.downloader.handlers.http11 import HTTP11DownloadHandler

if TYPE_CHECKING:
    from scrapy.crawler import Crawler


class NoResendHTTP11DownloadHandler(HTTP11DownloadHandler):
    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self._pool.retryAutomatically = False
