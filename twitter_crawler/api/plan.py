"""What an import will send and cost before it starts (``scrapy plan``): pure functions of the
profile's counts, the spider's arguments, the API's page sizes, quotas and endpoints, and the
price table.

X bills per resource returned (X_API_2026.md §2), and part of what an import will be billed is
not known before it runs, so the cost is a range ``low`` – ``high``:

* the followings' timelines: each following has 0 to ``following_tweets`` posts to read;
* a follower who also is a following is billed once a day (one ``follow`` resource): the low
  end counts the longer list only;
* ``includes`` (authors, referenced posts): X does not say whether they are billed; the high
  end counts, per post read, one referenced post and one user;
* the profile (and ``/2/users/me``) that the plan itself read is free again the same UTC day:
  the low end counts them as free, the high end as billed (the import may run another day).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from twitter_crawler.api.prices import dollars

#: Minutes of one rate-limit window (X_API_2026.md §3).
WINDOW_MINUTES = 15
INCLUDES = "includes (if billed)"


@dataclass(frozen=True)
class Profile:
    followers: int
    following: int
    tweets: int


@dataclass(frozen=True)
class Arguments:
    """The spider's arguments that shape an import (:mod:`twitter_crawler.spiders.arguments`)."""

    parts: frozenset[str]
    limit: int | None
    following_tweets: int


@dataclass(frozen=True)
class Shape:
    """What the API version and the settings make of an import.

    ``endpoints``: the ``twitter_endpoint`` of ``profile``, ``timeline``, ``followers``,
    ``following`` and ``users/me``; ``quotas``: requests per 15-minute window by endpoint;
    ``prices``: micro-dollars by kind (None: the version is not billed per resource);
    ``owned``: the account's reads are Owned Reads; ``users_me``: the import asks
    ``/2/users/me``; ``first_page``: a newest-first contacts walk's first page;
    ``full_refresh_every_run``: ``TWITTER_CONTACTS_FULL_REFRESH=0``."""

    endpoints: dict[str, str]
    contacts_page: int
    timeline_page: int
    timeline_cap: int
    quotas: dict[str, int]
    prices: dict[str, int] | None
    owned: bool
    users_me: bool
    first_page: int
    full_refresh_every_run: bool


@dataclass
class Estimate:
    """One run: requests by endpoint, resources by kind (low, high) and micro-dollars."""

    requests: dict[str, int] = field(default_factory=dict)
    resources: dict[str, tuple[int, int]] = field(default_factory=dict)
    low: int = 0
    high: int = 0

    def ask(self, endpoint: str, requests: int) -> None:
        self.requests[endpoint] = self.requests.get(endpoint, 0) + requests

    def bill(self, kind: str, low: int, high: int, prices: dict[str, int] | None) -> None:
        was = self.resources.get(kind, (0, 0))
        self.resources[kind] = (was[0] + low, was[1] + high)
        if prices is not None:
            self.low += low * prices[kind]
            self.high += high * prices[kind]

    def minutes(self, quotas: dict[str, int]) -> int:
        """The least time the rate limits allow: the endpoints are read side by side, each its
        quota a window; the last window is not waited out."""
        windows = [math.ceil(n / quotas[e]) - 1 for e, n in self.requests.items()
                   if n and quotas.get(e)]
        return max(windows, default=0) * WINDOW_MINUTES


def _pages(count: int, size: int) -> int:
    return max(1, math.ceil(count / size))


def _lists(profile: Profile, args: Arguments) -> dict[str, int]:
    """The contacts lists the import reads, with how many accounts of each."""
    lists = {}
    for kind, count in (("followers", profile.followers), ("following", profile.following)):
        timelines = (kind == "following" and "following_timelines" in args.parts
                     and args.following_tweets > 0)
        if kind in args.parts or timelines:
            lists[kind] = count if args.limit is None else min(count, args.limit)
    return lists


def _own_timeline(profile: Profile, args: Arguments, shape: Shape) -> int | None:
    """How many of the account's posts the import reads (None: its timeline is not read)."""
    if "timeline" not in args.parts or args.limit == 0:
        return None
    cap = shape.timeline_cap if args.limit is None else min(shape.timeline_cap, args.limit)
    return min(cap, profile.tweets)


def _followings_timelines(lists: dict[str, int], args: Arguments) -> int:
    """How many followings' timelines the import reads."""
    if "following_timelines" not in args.parts or args.following_tweets <= 0:
        return 0
    return lists.get("following", 0)


def _profile(est: Estimate, shape: Shape, *, read_today: bool) -> None:
    est.ask(shape.endpoints["profile"], 1)
    low = 0 if read_today else 1
    est.bill("users", low, 1, shape.prices)
    if shape.users_me:
        est.ask(shape.endpoints["users/me"], 1)
        est.bill("users", low, 1, shape.prices)


def first_import(profile: Profile, args: Arguments, shape: Shape) -> Estimate:
    """The first import: nothing stored, nothing billed today but what the plan read."""
    est = Estimate()
    _profile(est, shape, read_today=True)
    contact = "owned" if shape.owned else "follows"
    lists = _lists(profile, args)
    for kind, count in lists.items():
        est.ask(shape.endpoints[kind], _pages(count, shape.contacts_page))
    if lists:
        est.bill(contact, max(lists.values()), sum(lists.values()), shape.prices)
    read = 0
    own = _own_timeline(profile, args, shape)
    if own is not None:
        est.ask(shape.endpoints["timeline"], _pages(own, shape.timeline_page))
        est.bill("owned" if shape.owned else "posts", own, own, shape.prices)
        read += own
    others = _followings_timelines(lists, args)
    if others:
        per = min(args.following_tweets, shape.timeline_cap)
        est.ask(shape.endpoints["timeline"], others * _pages(per, shape.timeline_page))
        est.bill("posts", 0, others * per, shape.prices)
        read += others * per
    if read:
        # One referenced post and its author per post read, at most.
        est.resources[INCLUDES] = (0, 2 * read)
        if shape.prices is not None:
            est.high += read * (shape.prices["posts"] + shape.prices["users"])
    return est


def unchanged_rerun(profile: Profile, args: Arguments, shape: Shape) -> Estimate:
    """A rerun on a later UTC day when nothing changed (the same day everything is free):
    the contacts newest first, one first page a list (all of it when
    ``TWITTER_CONTACTS_FULL_REFRESH=0``), the timelines since their newest stored post (one
    empty answer each: free)."""
    est = Estimate()
    _profile(est, shape, read_today=False)
    contact = "owned" if shape.owned else "follows"
    lists = _lists(profile, args)
    if not shape.full_refresh_every_run:
        lists = {kind: min(count, shape.first_page) for kind, count in lists.items()}
    for kind, count in lists.items():
        pages = _pages(count, shape.contacts_page) if shape.full_refresh_every_run else 1
        est.ask(shape.endpoints[kind], pages)
    if lists:
        est.bill(contact, max(lists.values()), sum(lists.values()), shape.prices)
    timelines = (_own_timeline(profile, args, shape) is not None) + _followings_timelines(
        _lists(profile, args), args)
    if timelines:
        est.ask(shape.endpoints["timeline"], timelines)
    return est


def _section(title: str, est: Estimate, shape: Shape) -> list[str]:
    lines = [f"{title}:"]
    lines.extend(f"  requests {endpoint}: {n:,}" for endpoint, n in est.requests.items())
    for kind, (low, high) in est.resources.items():
        amount = f"{low:,}" if low == high else f"{low:,} – {high:,}"
        price = ""
        if shape.prices is not None and kind in shape.prices:
            price = f" at {_usd(shape.prices[kind])} each"
        lines.append(f"  {kind}: {amount}{price}")
    lines.append(f"  time under the rate limits: {_duration(est.minutes(shape.quotas))}")
    if shape.prices is None:
        lines.append("  cost: not billed per resource (API v1.1 reads: an Enterprise contract)")
    else:
        lines.append(f"  cost: {dollars(est.low)} – {dollars(est.high)}")
    return lines


def _usd(micro: int) -> str:
    return f"${micro / 1_000_000:g}"


def _duration(minutes: int) -> str:
    if minutes == 0:
        return "no wait (within one 15-minute window)"
    hours, rest = divmod(minutes, 60)
    return f"at least {hours} h {rest:02d} min" if hours else f"at least {rest} min"


def report(handle: str, profile: Profile, args: Arguments, shape: Shape) -> list[str]:
    """The lines ``scrapy plan`` prints; the last one is ``estimated cost: $A – $B``."""
    first = first_import(profile, args, shape)
    rerun = unchanged_rerun(profile, args, shape)
    whose = ("the token's own: Owned Reads" if shape.owned
             else "not the token's own, or not known: no Owned Reads")
    counts = (f"@{handle}: {profile.followers:,} followers, {profile.following:,} followings, "
              f"{profile.tweets:,} posts ({whose})")
    lines = [counts]
    lines += _section("First import", first, shape)
    lines += _section("Unchanged rerun, a later UTC day (the same day: free)", rerun, shape)
    if shape.prices is not None:
        lines.append(
            "Why a range: the followings' posts (0 to following_tweets each), followers who "
            "also are followings (billed once a day), includes (authors and referenced posts: "
            "X does not say whether they are billed), and the profile this plan read (free "
            "again the same UTC day).")
    lines.append(f"estimated cost: {dollars(first.low if shape.prices else 0)} – "
                 f"{dollars(first.high if shape.prices else 0)}")
    return lines
