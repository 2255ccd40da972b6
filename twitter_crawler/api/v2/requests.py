"""The Twitter API v2: :class:`ApiV2`, the v2 side of the contract
(:class:`~twitter_crawler.api.contract.TwitterApi`), and the only place that knows its URLs,
fields and expansions. Its answers are read by :mod:`twitter_crawler.api.v2.parse`.

The same walk dicts as ``ApiV1``, and every request carries, in ``meta``:

* ``twitter_endpoint``: the resource family Twitter counts quotas by (``users/tweets``);
* ``download_slot``: the same, so each endpoint gets its own downloader slot.

Walk positions travel in ``cb_kwargs`` as plain dicts (JOBDIR-safe), as in v1.1. What differs:

* contacts: ``/2/users/:id/followers`` and ``/2/users/:id/following`` give full user objects,
  up to 1,000 per page, so there is no ids + lookup strategy (``walk["strategy"]`` is ignored and
  there is no ``lookup``). The position is ``walk["pagination_token"]`` (``meta.next_token`` of
  the previous page); ``walk["cursor"]`` is read as an alias, so a walk that keeps v1.1's
  ``cursor`` key (``"-1"`` first, ``"0"`` done) works unchanged.
* timelines: ``/2/users/:id/tweets`` pages with ``walk["pagination_token"]``. A v1.1-style
  ``walk["max_id"]`` (inclusive) is sent as ``until_id = max_id + 1`` (v2's ``until_id`` is
  exclusive) when there is no token, so the v1.1 paging also works. ``max_results`` must be
  5..100: when fewer tweets are wanted, 5 are fetched and the parser keeps the wanted number
  (``parse_timeline(..., limit=walk["wanted"] - walk["fetched"])``). A walk goes on with
  ``meta.next_token`` and ends when there is none: no empty page is asked for at the end.

Fields requested (every property of PRODUCT.md §4 that v2 can give):

* users: ``created_at, description, entities, id, location, name, profile_image_url, protected,
  public_metrics, url, username, verified``;
* tweets: ``attachments, author_id, conversation_id, created_at, entities, in_reply_to_user_id,
  lang, public_metrics, referenced_tweets, source`` (v2 accepts ``source`` but no longer returns
  it for most apps: the parser leaves ``source`` out when it is absent);
* media: ``duration_ms, height, media_key, preview_image_url, type, url, variants, width``;
* expansions: ``attachments.media_keys, author_id, entities.mentions.username,
  referenced_tweets.id, referenced_tweets.id.author_id``.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import parse_qs, quote, urlencode, urlsplit

from scrapy import Request

from twitter_crawler.api.contract import TwitterApi
from twitter_crawler.api.prices import RESOURCE_KINDS, Billable, Resources
from twitter_crawler.api.request import api_request
from twitter_crawler.api.v2 import parse

if TYPE_CHECKING:
    from collections.abc import Callable

    from twitter_crawler.api.contract import Walk
    from twitter_crawler.api.pages import TimelinePage, UsersPage
    from twitter_crawler.items import Account

VERSION_PATH = "2"

#: Twitter's documented per-15-minute limits with OAuth 1.0a user context (TWITTER_API.md §2.1);
#: used to plan, the ``x-rate-limit-*`` headers decide.
QUOTAS = {
    "users/by/username": 900,
    "users/followers": 15,
    "users/following": 15,
    "users/tweets": 900,
}
#: The same with an app-only bearer token. followers/following: 15 per window in the recorded
#: headers (2021, 2022); the current docs table says 300 for both contexts.
APP_QUOTAS = {
    "users/by/username": 300,
    "users/followers": 15,
    "users/following": 15,
    "users/tweets": 1500,
}
#: X's 2026 table of requests per 15 minutes (X_API_2026.md §3), per user with OAuth 1.0a and
#: per app with a bearer token: what ``scrapy plan`` counts the time of an import with.
QUOTAS_2026 = {
    "users/by/username": 900,
    "users/me": 75,
    "users/followers": 300,
    "users/following": 300,
    "users/tweets": 900,
}
APP_QUOTAS_2026 = {
    "users/by/username": 300,
    "users/followers": 300,
    "users/following": 300,
    "users/tweets": 10_000,
}
CONTACTS_PAGE = 1000
TIMELINE_PAGE = 100
TIMELINE_MIN = 5
TIMELINE_CAP = 3200
#: X's defaults of ``max_results`` when a request gives none: the most an answer then holds.
CONTACTS_DEFAULT = 100
TIMELINE_DEFAULT = 10

USER_FIELDS = "created_at,description,entities,id,location,name,profile_image_url,protected,public_metrics,url,username,verified"  # fmt: skip
TWEET_FIELDS = "attachments,author_id,conversation_id,created_at,entities,in_reply_to_user_id,lang,public_metrics,referenced_tweets,source"  # fmt: skip
MEDIA_FIELDS = "duration_ms,height,media_key,preview_image_url,type,url,variants,width"  # fmt: skip
EXPANSIONS = "attachments.media_keys,author_id,entities.mentions.username,referenced_tweets.id,referenced_tweets.id.author_id"  # fmt: skip

# follower/following is the edge name; followers/following the endpoint.
FAMILY = {"follower": "followers", "following": "following"}
#: v1.1 cursor values that mean "no position" in a walk that still carries v1.1's ``cursor``.
_NO_CURSOR = (None, "", "-1", "0")


def _token(walk: Walk) -> str | None:
    token = walk.get("pagination_token")
    if token in _NO_CURSOR:
        token = walk.get("cursor")
    return None if token in _NO_CURSOR else str(token)


class ApiV2(TwitterApi):
    """The v2 API against ``base_url`` (``TWITTER_API_URL``): OAuth 1.0a user context or an
    app-only bearer token, contacts as full users only (no ids, no lookup), timelines paged by
    ``pagination_token``."""

    version = "2"
    profile_endpoint = "users/by/username"
    timeline_endpoint = "users/tweets"
    accepts_bearer_token = True
    billed_per_resource = True
    timeline_cap = TIMELINE_CAP
    contacts_page = CONTACTS_PAGE
    timeline_page = TIMELINE_PAGE
    contacts_endpoints: ClassVar[dict[str, str]] = {
        "followers": "users/followers", "following": "users/following"}
    quotas: ClassVar[dict[str, int]] = QUOTAS_2026
    app_quotas: ClassVar[dict[str, int]] = APP_QUOTAS_2026
    access_level_message = (
        "Twitter refused %(endpoint)s (HTTP %(status)s, client-forbidden: %(message)s): "
        "these credentials' app may not use API v2; it must belong to a Project in the "
        "developer portal, with an access level that includes these endpoints."
    )

    def __init__(self, base_url: str) -> None:
        super().__init__(base_url)
        self.base = base_url.rstrip("/") + "/" + VERSION_PATH

    def _request(
        self,
        endpoint: str,
        path: str,
        params: dict[str, Any],
        callback: Callable[..., Any],
        cb_kwargs: dict[str, Any] | None = None,
        *,
        priority: int = 0,
        errback: Callable[..., Any] | None = None,
    ) -> Request:
        return api_request(f"{self.base}/{path}?{urlencode(params)}", endpoint, callback,
                           cb_kwargs, priority=priority, errback=errback)

    def user(
        self, handle: str, callback: Callable[..., Any], errback: Callable[..., Any] | None = None
    ) -> Request:
        """``GET /2/users/by/username/:username`` with every Account field.

        An unknown or suspended handle is a **200** with ``errors`` and no ``data``:
        :func:`~twitter_crawler.api.v2.parse.parse_user_response` raises it as a
        ``ProblemError`` (codes 50 / 63)."""
        path = "users/by/username/" + quote(handle, safe="")
        return self._request(self.profile_endpoint, path, {"user.fields": USER_FIELDS}, callback,
                             priority=100, errback=errback)

    def contacts(self, walk: Walk, callback: Callable[..., Any]) -> Request:
        """A page of followers or followings (``walk["kind"]``: ``follower`` or ``following``).

        ``walk["limit"]``/``walk["fetched"]``, when set, make the last page no larger than needed;
        ``walk["count"]``, when set, makes the page no larger than that (a newest-first walk).
        """
        family = FAMILY[walk["kind"]]
        count = CONTACTS_PAGE
        if walk.get("limit") is not None:
            count = max(1, min(CONTACTS_PAGE, walk["limit"] - walk.get("fetched", 0)))
        if walk.get("count") is not None:
            count = max(1, min(count, walk["count"]))
        params: dict[str, Any] = {"max_results": count, "user.fields": USER_FIELDS}
        token = _token(walk)
        if token:
            params["pagination_token"] = token
        return self._request(f"users/{family}", f"users/{walk['user_id']}/{family}", params,
                             callback, {"walk": walk}, priority=50)

    def timeline(self, walk: Walk, callback: Callable[..., Any]) -> Request:
        """One page of a timeline walk, newest first.

        ``max_results`` is the number still wanted, between 5 and 100: below 5, the parser keeps
        only the wanted ones (``limit`` of :func:`~twitter_crawler.api.v2.parse.parse_timeline`).
        """
        wanted = walk["wanted"] - walk.get("fetched", 0)
        count = max(TIMELINE_MIN, min(TIMELINE_PAGE, wanted))
        params: dict[str, Any] = {
            "max_results": count,
            "tweet.fields": TWEET_FIELDS,
            "expansions": EXPANSIONS,
            "media.fields": MEDIA_FIELDS,
            "user.fields": USER_FIELDS,
        }
        if walk.get("since_id"):
            params["since_id"] = walk["since_id"]
        token = _token(walk)
        if token:
            params["pagination_token"] = token
        elif walk.get("max_id"):
            params["until_id"] = str(int(walk["max_id"]) + 1)  # v1.1 max_id is inclusive
        return self._request(
            self.timeline_endpoint, f"users/{walk['user_id']}/tweets", params, callback,
            {"walk": walk},
            priority=30 if walk.get("own") else 10,
        )

    # -- answers ---------------------------------------------------------------------------

    def check_error(self, status: int, body: bytes) -> None:
        parse.check_error(status, body)

    def parse_profile(self, body: bytes) -> Account:
        # A 200 without data is v2's "not found" or "suspended": raised as a ProblemError.
        return parse.parse_user_response(parse.load_json(body), me_id=None)

    def parse_users_page(self, body: bytes, *, me_id: str) -> UsersPage:
        return parse.parse_users_page(parse.load_json(body), me_id=me_id)

    def parse_timeline(self, body: bytes, walk: Walk) -> TimelinePage:
        # max_results is at least 5: a walk that wants fewer keeps only those.
        return parse.parse_timeline(parse.load_json(body), me_id=walk["me"],
                                    limit=keep_count(walk))

    # -- paging and planning ---------------------------------------------------------------

    def next_timeline_position(self, page: TimelinePage) -> Walk | None:
        # v2 says when there is no more: no empty page to ask for at the end.
        if page.next_token:
            return {"pagination_token": page.next_token}
        return None

    # -- billing ---------------------------------------------------------------------------

    def billable(self, endpoint: str, url: str) -> Billable | None:
        """Per resource in ``data`` (X_API_2026.md §2): a user of ``users/by/username`` and
        ``users/me``; each user of a followers or following page (``follow``) and each post of a
        timeline, whose ``:id`` may make them Owned Reads. ``most``: ``max_results`` (X's
        default without one)."""
        parts = urlsplit(url)
        path = parts.path.split(f"/{VERSION_PATH}/", 1)[-1].strip("/").split("/")
        query = parse_qs(parts.query)
        if endpoint in ("users/by/username", "users/me"):
            return Billable(endpoint, "user", "users", None, 1)
        if endpoint in ("users/followers", "users/following", "users/tweets") and len(path) == 3:
            resource = "post" if endpoint == "users/tweets" else "follow"
            default = TIMELINE_DEFAULT if resource == "post" else CONTACTS_DEFAULT
            try:
                most = int(query["max_results"][0])
            except (KeyError, ValueError):
                most = default
            return Billable(endpoint, resource, RESOURCE_KINDS[resource], path[1], most)
        return None

    def billed_resources(self, billable: Billable, body: bytes) -> Resources:
        """The ids in ``data`` (one object or a list), and the posts and users of ``includes``."""
        found = Resources()
        try:
            payload = json.loads(body)
        except ValueError:
            return found
        if not isinstance(payload, dict):
            return found
        data = payload.get("data")
        items = data if isinstance(data, list) else [data] if isinstance(data, dict) else []
        found.ids = [str(item["id"]) for item in items if isinstance(item, dict) and "id" in item]
        includes = payload.get("includes")
        if isinstance(includes, dict):
            for name, resource in (("tweets", "post"), ("users", "user")):
                found.included[resource] = [
                    str(item["id"]) for item in includes.get(name) or ()
                    if isinstance(item, dict) and "id" in item
                ]
        return found

    def token_user(self) -> Request | None:
        """``GET /2/users/me`` (OAuth 1.0a user context): the token's user, for Owned Reads."""
        return Request(f"{self.base}/users/me", meta={"twitter_cost_endpoint": "users/me"},
                       dont_filter=True, priority=200)

    def parse_token_user(self, body: bytes) -> str | None:
        try:
            data = json.loads(body).get("data")
        except (ValueError, AttributeError):
            return None
        return str(data["id"]) if isinstance(data, dict) and "id" in data else None


def keep_count(walk: Walk) -> int:
    """How many tweets of the page a timeline walk keeps (the ``limit`` to parse with)."""
    wanted: int = walk["wanted"] - walk.get("fetched", 0)
    return max(0, wanted)


def choose_strategy(followers: int, followings: int, limit: int | None) -> dict[str, str]:
    """v2 has a single way to read contacts (full users, 1,000 a page): always ``list``
    (:meth:`ApiV2.contacts_strategies`, the contract's default, says the same)."""
    return {"follower": "list", "following": "list"}
