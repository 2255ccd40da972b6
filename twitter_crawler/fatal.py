"""Whether a fatal answer stopped the sending of API requests.

Once an answer says "stop" (a usage cap, credits exhausted, bad credentials: see
``spidermiddlewares/errors.py``), every further request to the API would meet the same refusal,
and each refusal may be billed or counted. The component that sees such an answer first calls
:func:`stop_sending`; from then on the rate-limit middleware holds the requests that reach it and
hands them back to the scheduler when the crawl closes (a JOBDIR keeps them for the next run),
and the download handler refuses to send the API requests already queued in a downloader slot
(:class:`~twitter_crawler.exceptions.SendingStopped`), which the rate-limit middleware also hands
back. Requests already on the wire are answered as usual.
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

    from twitter_crawler.api.problems import Problem

# Per crawler (a process may run several, as tests do); gone with the crawler.
_stopped: weakref.WeakKeyDictionary[Crawler, str] = weakref.WeakKeyDictionary()


def stop_sending(crawler: Crawler, why: str) -> None:
    """No API request goes out any more in this crawl; ``why`` names the answer (a close reason)."""
    _stopped.setdefault(crawler, why)


def sending_stopped(crawler: Crawler) -> str | None:
    """Why the crawl stopped sending API requests, or None while it may send them."""
    return _stopped.get(crawler)


#: Close reasons of the answers that mean "stop", not "wait" (X_API_2026.md §4).
USAGE_CAPPED = "twitter_usage_capped"
API_PROBLEM = "twitter_api_problem"
#: Close reason when the shared rate-limit budgets (``TWITTER_RATELIMIT_REDIS_URL``) cannot be
#: reached: sending without them would over-spend what other crawls of the token share.
REDIS_UNREACHABLE = "twitter_redis_unreachable"


def stop_reason(problem: Problem) -> str:
    """The close reason of a stop problem (:func:`twitter_crawler.api.problems.stop_problem`)."""
    return USAGE_CAPPED if problem.problem == "usage-capped" else API_PROBLEM
