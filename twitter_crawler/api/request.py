"""The one way API modules of every version build a Scrapy request.

Every API request carries, in ``meta``, ``twitter_endpoint`` (the resource family Twitter counts
quotas by) and ``download_slot`` (the same, so each endpoint gets its own downloader slot): the
rate-limit middleware, the error middleware and ``DOWNLOAD_SLOTS`` rely on both.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scrapy import Request

if TYPE_CHECKING:
    from collections.abc import Callable


def api_request(
    url: str,
    endpoint: str,
    callback: Callable[..., Any],
    cb_kwargs: dict[str, Any] | None = None,
    *,
    form: str | None = None,
    priority: int = 0,
    errback: Callable[..., Any] | None = None,
) -> Request:
    """A GET of ``url``, or a form POST of ``form`` (already url-encoded) to it."""
    extra: dict[str, Any] = {}
    if form is not None:
        extra = {"method": "POST", "body": form,
                 "headers": {"Content-Type": "application/x-www-form-urlencoded"}}
    return Request(
        url,
        callback=callback,
        cb_kwargs=cb_kwargs or {},
        meta={"twitter_endpoint": endpoint, "download_slot": endpoint},
        priority=priority,
        errback=errback,
        **extra,
    )
