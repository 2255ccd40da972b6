"""The Twitter API v1.1: :class:`ApiV1`, the v1.1 side of the contract
(:class:`~twitter_crawler.api.contract.TwitterApi`), and the only place that knows its URLs,
parameters and quotas. Its answers are read by :mod:`twitter_crawler.api.v1.parse`.

Each request carries, in ``meta``:

* ``twitter_endpoint``: the resource family Twitter counts quotas by (``followers/list``);
* ``download_slot``: the same, so each endpoint gets its own downloader slot and a parked
  endpoint never holds back the others.

Walk positions (cursors, ``max_id``, counts) travel in ``cb_kwargs`` as plain dicts, so every
request can be written to a JOBDIR queue and a resumed crawl continues where it stopped.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urlencode

from twitter_crawler.api.contract import TwitterApi
from twitter_crawler.api.request import api_request
from twitter_crawler.api.v1 import parse

if TYPE_CHECKING:
    from collections.abc import Callable

    from scrapy import Request

    from twitter_crawler.api.contract import Walk
    from twitter_crawler.api.pages import IdsPage, TimelinePage, UsersPage
    from twitter_crawler.items import Account

VERSION_PATH = "1.1"

#: Twitter's documented per-15-minute user-context limits; used to plan, the headers decide.
QUOTAS = {
    "users/show": 900,
    "users/lookup": 900,
    "followers/list": 15,
    "friends/list": 15,
    "followers/ids": 15,
    "friends/ids": 15,
    "statuses/user_timeline": 900,
}
LIST_PAGE = 200
IDS_PAGE = 5000
LOOKUP_BATCH = 100
TIMELINE_PAGE = 200
TIMELINE_CAP = 3200

# follower/following is the edge name; followers/friends the endpoint family.
FAMILY = {"follower": "followers", "following": "friends"}


class ApiV1(TwitterApi):
    """The v1.1 API against ``base_url`` (``TWITTER_API_URL``): OAuth 1.0a user context only,
    contacts as full users (``*/list``) or as ids and lookups, timelines paged by ``max_id``."""

    version = "1.1"
    profile_endpoint = "users/show"
    timeline_endpoint = "statuses/user_timeline"
    lookup_endpoint: ClassVar[str] = "users/lookup"
    timeline_cap = TIMELINE_CAP
    lookup_batch = LOOKUP_BATCH
    contacts_page = LIST_PAGE
    timeline_page = TIMELINE_PAGE
    contacts_endpoints: ClassVar[dict[str, str]] = {
        "followers": "followers/list", "following": "friends/list"}
    quotas: ClassVar[dict[str, int]] = QUOTAS
    app_quotas: ClassVar[dict[str, int]] = QUOTAS
    # 5,000 ids a page against 200 users: the followings' ids are all their timelines need.
    timelines_only_strategy = "ids"
    access_level_message = (
        "Twitter refused %(endpoint)s (HTTP %(status)s, code 453): the access level of "
        "these credentials' app has no v1.1 reads; v1.1 reads need an elevated access "
        "level. Ask for elevated access for the app in the developer portal, or use "
        "API v2, the alternative for lower access levels: -s TWITTER_API_VERSION=2."
    )

    def __init__(self, base_url: str) -> None:
        super().__init__(base_url)
        self.base = base_url.rstrip("/") + "/" + VERSION_PATH

    def _request(
        self,
        endpoint: str,
        params: dict[str, Any],
        callback: Callable[..., Any],
        cb_kwargs: dict[str, Any] | None = None,
        *,
        method: str = "GET",
        priority: int = 0,
        errback: Callable[..., Any] | None = None,
    ) -> Request:
        query = urlencode(params)
        url = f"{self.base}/{endpoint}.json"
        if method == "POST":
            return api_request(url, endpoint, callback, cb_kwargs, form=query, priority=priority,
                               errback=errback)
        return api_request(f"{url}?{query}", endpoint, callback, cb_kwargs, priority=priority,
                           errback=errback)

    def user(
        self, handle: str, callback: Callable[..., Any], errback: Callable[..., Any] | None = None
    ) -> Request:
        return self._request(
            self.profile_endpoint, {"screen_name": handle}, callback, priority=100, errback=errback
        )

    def contacts(self, walk: Walk, callback: Callable[..., Any]) -> Request:
        """A page of followers or followings; ``walk['strategy']`` is ``list`` or ``ids``."""
        family = FAMILY[walk["kind"]]
        wanted = walk.get("count")
        if walk["strategy"] == "list":
            count = LIST_PAGE if wanted is None else max(1, min(LIST_PAGE, wanted))
            params = {"user_id": walk["user_id"], "count": count, "cursor": walk["cursor"],
                      "skip_status": "true", "include_user_entities": "true"}
            endpoint = f"{family}/list"
        else:
            count = IDS_PAGE if wanted is None else max(1, min(IDS_PAGE, wanted))
            params = {"user_id": walk["user_id"], "count": count, "cursor": walk["cursor"],
                      "stringify_ids": "true"}
            endpoint = f"{family}/ids"
        return self._request(endpoint, params, callback, {"walk": walk}, priority=50)

    def lookup(self, ids: list[str], walk: Walk, callback: Callable[..., Any]) -> Request:
        params = {"user_id": ",".join(ids), "include_entities": "true"}
        return self._request(
            self.lookup_endpoint, params, callback, {"walk": walk, "ids": ids}, method="POST",
            priority=40,
        )

    def timeline(self, walk: Walk, callback: Callable[..., Any]) -> Request:
        """One page of a timeline walk, newest first, paging backwards with ``max_id``."""
        count = max(1, min(TIMELINE_PAGE, walk["wanted"] - walk["fetched"]))
        params: dict[str, Any] = {"user_id": walk["user_id"], "count": count,
                                  "tweet_mode": "extended", "include_rts": "true"}
        if walk.get("since_id"):
            params["since_id"] = walk["since_id"]
        if walk.get("max_id"):
            params["max_id"] = walk["max_id"]
        # Own timeline first: it is what the user asked for by name.
        return self._request(
            self.timeline_endpoint, params, callback, {"walk": walk},
            priority=30 if walk.get("own") else 10,
        )

    # -- answers ---------------------------------------------------------------------------

    def check_error(self, status: int, body: bytes) -> None:
        parse.check_error(status, body)

    def parse_profile(self, body: bytes) -> Account:
        return parse.parse_user(parse.load_json(body), me_id=None)

    def parse_users_page(self, body: bytes, *, me_id: str) -> UsersPage:
        return parse.parse_users_page(parse.load_json(body), me_id=me_id)

    def parse_ids_page(self, body: bytes) -> IdsPage:
        return parse.parse_ids_page(parse.load_json(body))

    def parse_lookup(self, body: bytes, *, me_id: str) -> list[Account]:
        return parse.parse_lookup(parse.load_json(body), me_id=me_id)

    def parse_timeline(self, body: bytes, walk: Walk) -> TimelinePage:
        # The request asked for no more than the walk wants: the whole page is kept.
        return parse.parse_timeline(parse.load_json(body), me_id=walk["me"])

    # -- paging and planning ---------------------------------------------------------------

    def next_timeline_position(self, page: TimelinePage) -> Walk | None:
        # v1.1 never says a timeline ended: the walk goes on below the page's lowest id
        # (max_id is inclusive) until a page comes back empty.
        return {"max_id": str(min(int(i) for i in page.tweet_ids) - 1)}

    def contacts_strategies(
        self, followers: int, followings: int, limit: int | None, setting: str
    ) -> dict[str, str]:
        if setting != "auto":
            return {"follower": setting, "following": setting}
        return choose_strategy(followers, followings, limit)


def windows_needed(requests: int, quota: int) -> int:
    """How many full quota windows a run of ``requests`` must wait (the first window is free)."""
    return max(0, math.ceil(requests / quota) - 1) if requests else 0


def choose_strategy(followers: int, followings: int, limit: int | None) -> dict[str, str]:
    """Picks ``list`` (``*/list``) or ``ids`` (``*/ids`` + ``users/lookup``) per list.

    The list endpoints give 200 full users per request but only 15 requests per window; the ids
    endpoints give 5,000 ids per request, then 100 users per lookup at 900 lookups per window
    (shared by both lists). Whichever needs fewer waiting windows wins; on a tie, fewer requests.
    """
    counts = {"follower": followers, "following": followings}
    if limit is not None:
        counts = {k: min(v, limit) for k, v in counts.items()}
    list_windows = {k: windows_needed(math.ceil(n / LIST_PAGE), QUOTAS["followers/list"])
                    for k, n in counts.items()}
    list_requests = {k: math.ceil(n / LIST_PAGE) for k, n in counts.items()}
    ids_requests = {k: math.ceil(n / IDS_PAGE) for k, n in counts.items()}
    lookups = {k: math.ceil(n / LOOKUP_BATCH) for k, n in counts.items()}
    total_lookups = sum(lookups.values())
    out = {}
    for kind in counts:
        ids_windows = max(windows_needed(ids_requests[kind], QUOTAS["followers/ids"]),
                          windows_needed(total_lookups, QUOTAS["users/lookup"]))
        if ids_windows < list_windows[kind] or (ids_windows == list_windows[kind] and (
            ids_requests[kind] + lookups[kind] < list_requests[kind]
        )):
            out[kind] = "ids"
        else:
            out[kind] = "list"
    return out
