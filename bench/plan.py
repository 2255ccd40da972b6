"""What a correct import of a synthetic world must request, and the least time the quotas allow.

Computed from the world's own summary (``GET /_emulator/world``), never from a crawl's log: the
request counts per endpoint that a crawl following PRODUCT.md §3 must make, for each way of reading
the contact lists (``list``: ``*/list`` at 200 per page; ``ids``: ``*/ids`` at 5,000 per page plus
``users/lookup`` at 100 per request), and for the tweepy baseline (lists, and tweepy's ``Cursor``
over the own timeline, which ends on an empty page).

The minimum wall time of a plan is

    max over endpoints of (windows needed) × window  +  latency floor

where an endpoint that needs ``n`` requests at ``q`` per window must wait ``ceil(n / q) - 1``
windows (the first one is free), and the latency floor is the longest chain of requests that
depend on each other (``users/show``, then a cursor chain or a ``max_id`` chain, each page after
the one before), times the per-request latency. Everything else may overlap: Twitter limits
requests per window, not requests in flight.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from twitter_emulator.quotas import DEFAULT_LIMITS

LIST_PAGE = 200
IDS_PAGE = 5000
LOOKUP = 100
TIMELINE_PAGE = 200
TIMELINE_CAP = 3200


def windows_needed(requests: int, quota: int) -> int:
    return max(0, math.ceil(requests / quota) - 1) if requests else 0


@dataclass
class Plan:
    name: str
    requests: dict[str, int] = field(default_factory=dict)
    chain: int = 0  # the longest chain of dependent requests
    timeline_tweets: int = 0

    @property
    def total(self) -> int:
        return sum(self.requests.values())

    def windows(self, limits: dict[str, int] | None = None) -> dict[str, int]:
        limits = limits or DEFAULT_LIMITS
        return {e: windows_needed(n, limits[e]) for e, n in self.requests.items() if n}

    def minimum(self, window: float, latency: float, limits: dict[str, int] | None = None) -> float:
        w = self.windows(limits)
        return max(w.values(), default=0) * window + self.chain * latency

    def describe(self, window: float, latency: float, limits: dict[str, int] | None = None) -> str:
        w = self.windows(limits)
        worst = max(w, key=lambda e: w[e]) if w else ""
        parts = ", ".join(f"{e} {n:,}" for e, n in sorted(self.requests.items()) if n)
        waits = (f"{worst} must wait {w[worst]} window{'s' if w[worst] > 1 else ''} × {window:g} s"
                 if worst and w[worst] else "no endpoint needs to wait for a window")
        return (f"{self.total:,} requests ({parts}); {waits}; longest chain of dependent requests "
                f"{self.chain} × {latency * 1000:g} ms")


def _timeline_pages(reachable: int, wanted: int, *, ends_on_empty: bool) -> int:
    """Requests of one ``max_id`` walk wanting the ``wanted`` newest of ``reachable`` tweets.

    The crawl stops once it has what it wants, and otherwise on an empty page (a short page does
    not prove the end: Twitter filters after counting). tweepy's ``Cursor(...).pages()`` over a
    whole timeline always ends on an empty page.
    """
    r = min(reachable, TIMELINE_CAP)
    if ends_on_empty:
        return math.ceil(r / TIMELINE_PAGE) + 1
    if r >= wanted:
        return max(1, math.ceil(wanted / TIMELINE_PAGE))
    return math.ceil(r / TIMELINE_PAGE) + 1


def world_facts(summary: dict[str, Any]) -> dict[str, int]:
    c = summary["counts"]
    opts = summary["options"]
    return {
        "followers": int(opts["followers"]),
        "followings_listed": int(c["followings_listed_in_ids"]),  # suspended ones included
        "suspended": int(opts["suspended_followings"]),
        "protected": int(opts["protected_followings"]),
        "own_reachable": int(c["reachable_tweets"]),
        "per_following": int(c["tweets_per_other_account"]),
    }


def crawl_plan(summary: dict[str, Any], following_tweets: int, strategies: dict[str, str]) -> Plan:
    """The requests of ``scrapy crawl twitter`` with the given contact strategies."""
    f = world_facts(summary)
    p = Plan(f"twitter_crawler ({strategies['follower']}/{strategies['following']})")
    req = {e: 0 for e in DEFAULT_LIMITS}
    req["users/show"] = 1
    chains = []
    readable = f["followings_listed"] - f["suspended"] - f["protected"]
    timelines = f["followings_listed"] - f["suspended"]  # protected ones: one 401 each
    per_tl = _timeline_pages(f["per_following"], following_tweets, ends_on_empty=False)
    for kind, n, family in (("follower", f["followers"], "followers"),
                            ("following", f["followings_listed"], "friends")):
        if strategies[kind] == "list":
            pages = max(1, math.ceil(n / LIST_PAGE))
            req[f"{family}/list"] += pages
            chain = pages
        else:
            pages = max(1, math.ceil(n / IDS_PAGE))
            req[f"{family}/ids"] += pages
            # The crawl looks up the ids of a page in batches of 100 (suspended ones included).
            req["users/lookup"] += sum(math.ceil(min(IDS_PAGE, n - i * IDS_PAGE) / LOOKUP) for i in range(pages))
            chain = pages + 1
        if kind == "following":
            chain += per_tl
        chains.append(chain)
    own = _timeline_pages(f["own_reachable"], TIMELINE_CAP, ends_on_empty=False)
    chains.append(own)
    req["statuses/user_timeline"] = own + timelines * per_tl
    p.requests = {e: n for e, n in req.items() if n}
    p.chain = 1 + max(chains)
    p.timeline_tweets = min(f["own_reachable"], TIMELINE_CAP) + readable * min(f["per_following"], following_tweets)
    return p


def best_crawl_plan(summary: dict[str, Any], following_tweets: int, window: float, latency: float) -> Plan:
    """The fastest correct plan under the quotas, over the four contact strategy choices."""
    plans = [crawl_plan(summary, following_tweets, {"follower": a, "following": b})
             for a in ("list", "ids") for b in ("list", "ids")]
    return min(plans, key=lambda p: (p.minimum(window, latency), p.total))


def baseline_plan(summary: dict[str, Any], following_tweets: int) -> Plan:
    """The requests of ``bench.baseline``: the original plugin's way, one at a time."""
    f = world_facts(summary)
    p = Plan("tweepy baseline")
    followers_pages = max(1, math.ceil(f["followers"] / LIST_PAGE))
    friends_pages = max(1, math.ceil(f["followings_listed"] / LIST_PAGE))
    timelines = f["followings_listed"] - f["suspended"]
    readable = timelines - f["protected"]
    own = _timeline_pages(f["own_reachable"], TIMELINE_CAP, ends_on_empty=True)
    per_tl = _timeline_pages(f["per_following"], following_tweets, ends_on_empty=False)
    p.requests = {"users/show": 1, "followers/list": followers_pages, "friends/list": friends_pages,
                  "statuses/user_timeline": own + timelines * per_tl}
    # Sequential by design, but the least the quotas allow does not depend on that.
    p.chain = 1 + max(followers_pages, friends_pages + per_tl, own)
    p.timeline_tweets = min(f["own_reachable"], TIMELINE_CAP) + readable * min(f["per_following"], following_tweets)
    return p
