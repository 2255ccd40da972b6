"""The API v2 endpoints over the same world: routes, parameters, pagination and v2's errors.

HTTP plumbing (authentication, quotas, faults, the request log) lives in ``server``; this module
knows what an endpoint answers for given parameters (TWITTER_API.md §2):

* ``GET /2/users/by/username/:username`` (``users/by/username``);
* ``GET /2/users/me`` (``users/me``, OAuth 1.0a user context only): the token's user;
* ``GET /2/usage/tweets`` (``usage/tweets``, app-only bearer token only; answered by the server
  from ``usage.py``);
* ``GET /2/users/:id/followers`` and ``/following`` (``users/followers``, ``users/following``):
  ``max_results`` 1..1000 (default 100), ``pagination_token``; newest first, suspended accounts
  left out (after the page is cut, as Twitter does);
* ``GET /2/users/:id/tweets`` (``users/tweets``): ``max_results`` 5..100 (default 10),
  ``pagination_token``, ``since_id`` and ``until_id`` (both exclusive), ``start_time``
  (inclusive) / ``end_time`` (exclusive), ``exclude=retweets,replies``; the newest 3,200 tweets.
  An empty page is ``{"meta": {"result_count": 0}}`` (no ``data``); the last page has no
  ``next_token``.

Errors are v2's: 400 ``invalid-request`` (a bad parameter value, an unknown parameter or field);
200 with ``errors`` and no ``data`` for an unknown (``resource-not-found``) or suspended
(``resource-not-found``, title ``Forbidden``) account, and for the tweets, followers or
followings of a protected account (``not-authorized-for-resource``; the authenticating user's own
are readable). Pagination tokens are opaque to clients; here they encode a stable position (a
tweet id, or a follow-list sequence number), so they stay valid while the world changes.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import datetime
from itertools import islice
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from twitter_emulator import credentials, synth
from twitter_emulator.serialize_v2 import V2Renderer
from twitter_emulator.world import ME, TIMELINE_CAP, World

logger = logging.getLogger(__name__)

Params = dict[str, str]
PROBLEMS = "https://api.twitter.com/2/problems/"
#: The app-only bearer token the emulator accepts by default (``--bearer-token``).
DEMO_BEARER_TOKEN = credentials.BEARER_TOKEN

UNAUTHORIZED = {"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"}
TOO_MANY_REQUESTS = {"title": "Too Many Requests", "detail": "Too Many Requests", "type": "about:blank",
                     "status": 429}
NOT_FOUND = {"title": "Not Found Error", "detail": "Sorry, that page does not exist.", "type": "about:blank",
             "status": 404}
#: X's answer when an endpoint does not take the request's kind of authentication (HTTP 403):
#: ``/2/users/me`` with an app-only bearer token, ``/2/usage/tweets`` with a user context.
UNSUPPORTED_BEARER = {
    "title": "Unsupported Authentication",
    "detail": "Authenticating with OAuth 2.0 Application-Only is forbidden for this endpoint.  "
              "Supported authentication types are [OAuth 1.0a User Context, OAuth 2.0 User Context].",
    "type": PROBLEMS + "unsupported-authentication",
    "status": 403,
}
UNSUPPORTED_USER_CONTEXT = {
    "title": "Unsupported Authentication",
    "detail": "Authenticating with OAuth 1.0a User Context is forbidden for this endpoint.  "
              "Supported authentication types are [OAuth 2.0 Application-Only].",
    "type": PROBLEMS + "unsupported-authentication",
    "status": 403,
}
#: The endpoints each kind of authentication may not use.
USER_CONTEXT_ONLY = frozenset(("users/me",))
APP_ONLY = frozenset(("usage/tweets",))
#: The answer of an app that may not use v2 (not in a Project, or too low an access level).
CLIENT_FORBIDDEN = {
    "client_id": "1",
    "detail": "When authenticating requests to the Twitter API v2 endpoints, you must use keys and tokens "
              "from a Twitter developer App that is attached to a Project. You can create a project via "
              "the developer portal.",
    "registration_url": "https://developer.twitter.com/en/docs/projects/overview",
    "title": "Client Forbidden",
    "required_enrollment": "Appropriate Level of API Access",
    "reason": "client-not-enrolled",
    "type": PROBLEMS + "client-forbidden",
}

# Allowed values of the field and expansion parameters (the v2 OpenAPI lists).
USER_FIELDS = frozenset((
    "affiliation", "connection_status", "created_at", "description", "entities", "id",
    "is_identity_verified", "location", "most_recent_tweet_id", "name", "parody", "pinned_tweet_id",
    "profile_banner_url", "profile_image_url", "protected", "public_metrics", "receives_your_dm",
    "subscription", "subscription_type", "url", "username", "verified", "verified_followers_count",
    "verified_type", "withheld",
))  # fmt: skip
TWEET_FIELDS = frozenset((
    "article", "attachments", "author_id", "card_uri", "community_id", "context_annotations",
    "conversation_id", "created_at", "display_text_range", "edit_controls", "edit_history_tweet_ids",
    "entities", "geo", "id", "in_reply_to_user_id", "lang", "media_metadata", "non_public_metrics",
    "note_tweet", "organic_metrics", "possibly_sensitive", "promoted_metrics", "public_metrics",
    "referenced_tweets", "reply_settings", "scopes", "source", "text", "withheld",
))  # fmt: skip
MEDIA_FIELDS = frozenset((
    "alt_text", "duration_ms", "height", "media_key", "non_public_metrics", "organic_metrics",
    "preview_image_url", "promoted_metrics", "public_metrics", "type", "url", "variants", "width",
))  # fmt: skip
PLACE_FIELDS = frozenset(("contained_within", "country", "country_code", "full_name", "geo", "id", "name",
                          "place_type"))
POLL_FIELDS = frozenset(("duration_minutes", "end_datetime", "id", "options", "voting_status"))
TWEET_EXPANSIONS = frozenset((
    "article.cover_media", "article.media_entities", "attachments.media_keys",
    "attachments.media_source_tweet", "attachments.poll_ids", "author_id", "edit_history_tweet_ids",
    "entities.mentions.username", "geo.place_id", "in_reply_to_user_id", "entities.note.mentions.username",
    "referenced_tweets.id", "referenced_tweets.id.author_id",
))  # fmt: skip
USER_EXPANSIONS = frozenset(("affiliation.user_id", "most_recent_tweet_id", "pinned_tweet_id"))

ENDPOINT_PARAMS = {
    "users/by/username": ("expansions", "tweet.fields", "user.fields"),
    "users/me": ("expansions", "tweet.fields", "user.fields"),
    "usage/tweets": ("days", "usage.fields"),
    "users/followers": ("expansions", "max_results", "pagination_token", "tweet.fields", "user.fields"),
    "users/following": ("expansions", "max_results", "pagination_token", "tweet.fields", "user.fields"),
    "users/tweets": ("end_time", "exclude", "expansions", "max_results", "media.fields", "pagination_token",
                     "place.fields", "poll.fields", "since_id", "start_time", "tweet.fields", "until_id",
                     "user.fields"),
}
_ROUTES = (
    (re.compile(r"^users/me$"), "users/me", "me"),
    (re.compile(r"^usage/tweets$"), "usage/tweets", ""),
    (re.compile(r"^users/by/username/([^/]*)$"), "users/by/username", "username"),
    (re.compile(r"^users/([^/]*)/followers$"), "users/followers", "id"),
    (re.compile(r"^users/([^/]*)/following$"), "users/following", "id"),
    (re.compile(r"^users/([^/]*)/tweets$"), "users/tweets", "id"),
)
#: The endpoints that read data (billed, refused by a cap, a problem or spent credits).
DATA_ENDPOINTS = frozenset(("users/by/username", "users/me", "users/followers", "users/following",
                            "users/tweets"))
_USERNAME = re.compile(r"^[A-Za-z0-9_]{1,15}$")
_ID = re.compile(r"^[0-9]{1,19}$")
_B36 = "0123456789abcdefghijklmnopqrstuvwxyz"
_B32 = "0123456789ABCDEFGHIJKLMNOPQRSTUV"
TWEETS_TOKEN_PREFIX = "7140dib"
USERS_TOKEN_SUFFIX = "ZZZZ"


class V2Error(Exception):
    """An error answer: HTTP status and JSON body."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(f"{status} {body}")
        self.status = status
        self.body = body


def route(tail: str) -> tuple[str, str, str] | None:
    """(endpoint, path parameter name, decoded value) of a raw path below ``/2/``, or None."""
    for pattern, endpoint, name in _ROUTES:
        m = pattern.match(tail)
        if m:
            return endpoint, name, unquote(m.group(1)) if m.groups() else ""
    return None


def invalid_request(parameter: str, value: str, message: str) -> V2Error:
    return V2Error(400, {
        "errors": [{"parameters": {parameter: [value]}, "message": message}],
        "title": "Invalid Request",
        "detail": "One or more parameters to your request was invalid.",
        "type": PROBLEMS + "invalid-request",
    })


def user_problem(state: str, parameter: str, value: str) -> dict[str, Any]:
    """An ``errors[]`` entry about a user: ``missing``, ``suspended`` or ``protected``."""
    if state == "suspended":
        return {"parameter": parameter, "resource_id": value, "value": value,
                "detail": f"User has been suspended: [{value}].", "title": "Forbidden",
                "resource_type": "user", "type": PROBLEMS + "resource-not-found"}
    if state == "protected":
        return {"detail": f"Sorry, you are not authorized to see the user with id: [{value}].",
                "parameter": parameter, "resource_id": value, "resource_type": "user", "section": "data",
                "title": "Authorization Error", "type": PROBLEMS + "not-authorized-for-resource",
                "value": value}
    return {"value": value, "detail": f"Could not find user with {parameter}: [{value}].",
            "title": "Not Found Error", "resource_type": "user", "parameter": parameter,
            "resource_id": value, "type": PROBLEMS + "resource-not-found"}


# -- parameters -------------------------------------------------------------------------------


def check_params(endpoint: str, params: Params) -> None:
    allowed = ENDPOINT_PARAMS[endpoint]
    for name, value in params.items():
        if name not in allowed:
            raise invalid_request(name, value, f"The query parameter [{name}] is not one of [{','.join(allowed)}]")


def field_set(params: Params, name: str, allowed: frozenset[str]) -> frozenset[str]:
    raw = params.get(name)
    if raw is None:
        return frozenset()
    values = [v for v in raw.split(",")]
    for v in values:
        if v not in allowed:
            raise invalid_request(name, v, f"The `{name}` query parameter value [{v}] is not one of "
                                           f"[{','.join(sorted(allowed))}]")
    return frozenset(values)


def max_results(params: Params, lo: int, hi: int, default: int) -> int:
    raw = params.get("max_results")
    if raw is None:
        return default
    try:
        n = int(raw)
    except ValueError:
        n = None
    if n is None or not lo <= n <= hi or not raw.isdigit():
        raise invalid_request("max_results", raw,
                              f"The `max_results` query parameter value [{raw}] is not between {lo} and {hi}")
    return n


def id_value(params: Params, name: str) -> int | None:
    raw = params.get(name)
    if raw is None:
        return None
    if not _ID.match(raw):
        raise invalid_request(name, raw, f"The `{name}` query parameter value [{raw}] does not match ^[0-9]{{1,19}}$")
    return int(raw)


def time_value(params: Params, name: str) -> int | None:
    """An RFC 3339 time as epoch milliseconds."""
    raw = params.get(name)
    if raw is None:
        return None
    try:
        moment = datetime.fromisoformat(raw)
        if moment.tzinfo is None:
            raise ValueError("no time zone")
    except ValueError:
        raise invalid_request(name, raw, f"The `{name}` query parameter value [{raw}] is not a valid "
                                         "RFC 3339 date-time") from None
    return int(moment.timestamp() * 1000)


def encode_tweets_token(tweet_id: int) -> str:
    n, out = tweet_id, []
    while n:
        n, r = divmod(n, 36)
        out.append(_B36[r])
    return TWEETS_TOKEN_PREFIX + "".join(reversed(out))


def decode_tweets_token(token: str) -> int:
    if not token.startswith(TWEETS_TOKEN_PREFIX) or len(token) <= len(TWEETS_TOKEN_PREFIX):
        raise invalid_request("pagination_token", token, _bad_token(token))
    try:
        return int(token[len(TWEETS_TOKEN_PREFIX):], 36)
    except ValueError:
        raise invalid_request("pagination_token", token, _bad_token(token)) from None


def encode_users_token(seq: int) -> str:
    out = []
    for _ in range(12):
        seq, r = divmod(seq, 32)
        out.append(_B32[r])
    return "".join(reversed(out)) + USERS_TOKEN_SUFFIX


def decode_users_token(token: str) -> int:
    body = token.removesuffix(USERS_TOKEN_SUFFIX)
    if len(token) != 16 or len(body) != 12 or any(ch not in _B32 for ch in body):
        raise invalid_request("pagination_token", token, _bad_token(token))
    return int(body, 32)


def _bad_token(token: str) -> str:
    return f"The `pagination_token` query parameter value [{token}] is not valid"


# -- the synthetic world ----------------------------------------------------------------------


class SyntheticV2:
    """The v2 endpoints over a :class:`World` (the same one /1.1 serves)."""

    dataset = "synthetic"

    def __init__(self, world: World, *, source: bool = False) -> None:
        self.world = world
        self.source = source

    def call(self, endpoint: str, value: str, params: Params) -> Any:
        check_params(endpoint, params)
        if endpoint == "users/by/username":
            return self.user_by_username(value, params)
        if endpoint == "users/me":
            return self.user_me(value, params)
        if endpoint == "users/tweets":
            return self.user_tweets(value, params)
        return self.contacts("followers" if endpoint == "users/followers" else "friends", value, params)

    def renderer(self, params: Params, *, expansions: frozenset[str]) -> V2Renderer:
        return V2Renderer(
            self.world,
            user_fields=field_set(params, "user.fields", USER_FIELDS),
            tweet_fields=field_set(params, "tweet.fields", TWEET_FIELDS),
            media_fields=field_set(params, "media.fields", MEDIA_FIELDS),
            expansions=field_set(params, "expansions", expansions),
            source=self.source,
        )

    def _slot_by_id(self, raw: str) -> tuple[int | None, dict[str, Any] | None]:
        """The account of a path ``id``, or the ``errors`` answer about it."""
        if not _ID.match(raw):
            raise invalid_request("id", raw, f"The `id` query parameter value [{raw}] does not match ^[0-9]{{1,19}}$")
        w = self.world
        slot = w.slot_by_id(int(raw))
        if slot is None:
            return None, {"errors": [user_problem("missing", "id", raw)]}
        if w.state(slot) == "suspended":
            return None, {"errors": [user_problem("suspended", "id", raw)]}
        if w.state(slot) == "protected" and slot != ME:
            # As /1.1 here: only the authenticating user's own protected data is readable.
            return None, {"errors": [user_problem("protected", "id", raw)]}
        return slot, None

    def user_by_username(self, username: str, params: Params) -> Any:
        if not _USERNAME.match(username):
            raise invalid_request("username", username, f"The `username` query parameter value [{username}] "
                                                        "does not match ^[A-Za-z0-9_]{1,15}$")
        r = self.renderer(params, expansions=USER_EXPANSIONS)
        w = self.world
        slot = w.slot_by_name(username)
        if slot is None:
            return {"errors": [user_problem("missing", "username", username)]}
        if w.state(slot) == "suspended":
            return {"errors": [user_problem("suspended", "username", username)]}
        return {"data": r.user(slot)}

    def user_me(self, user_id: str, params: Params) -> Any:
        """The authenticated user (``user_id``: the server's answer to whose token it is)."""
        r = self.renderer(params, expansions=USER_EXPANSIONS)
        slot = self.world.slot_by_id(int(user_id))
        assert slot is not None
        return {"data": r.user(slot)}

    def me_id(self) -> str:
        """The main account's id: the user of the emulator's access tokens."""
        return str(self.world.user_id(ME))

    def resolve_user(self, handle_or_id: str) -> str | None:
        """The id of an account named by handle (``@`` optional) or id, or None."""
        w = self.world
        slot = w.slot_by_id(int(handle_or_id)) if handle_or_id.isdigit() else w.slot_by_name(handle_or_id)
        return None if slot is None else str(w.user_id(slot))

    def contacts(self, which: str, raw_id: str, params: Params) -> Any:
        count = max_results(params, 1, 1000, 100)
        token = params.get("pagination_token")
        start = decode_users_token(token) if token is not None else None
        r = self.renderer(params, expansions=USER_EXPANSIONS)
        slot, problem = self._slot_by_id(raw_id)
        if problem is not None:
            return problem
        assert slot is not None
        w = self.world
        contacts = w.contacts(slot, which)
        top = contacts.max_seq if start is None else start
        if not 1 <= top <= contacts.max_seq:
            return {"meta": {"result_count": 0}}
        seqs = [s for s, _ in islice(contacts.down(top), count)]
        # Suspended accounts are filtered after the page is cut: a page may hold fewer.
        users = [r.user(m) for m in (contacts.member(s) for s in seqs) if w.state(m) != "suspended"]
        meta: dict[str, Any] = {"result_count": len(users)}
        below = contacts.next_below(seqs[-1]) if seqs else 0
        if below:
            meta["next_token"] = encode_users_token(below)
        if not users:
            return {"meta": meta}
        return {"data": users, "meta": meta}

    def user_tweets(self, raw_id: str, params: Params) -> Any:
        count = max_results(params, 5, 100, 10)
        since_id = id_value(params, "since_id")
        until_id = id_value(params, "until_id")
        start_ms = time_value(params, "start_time")
        end_ms = time_value(params, "end_time")
        exclude = field_set(params, "exclude", frozenset(("replies", "retweets")))
        token = params.get("pagination_token")
        upper = decode_tweets_token(token) if token is not None else None  # inclusive
        r = self.renderer(params, expansions=TWEET_EXPANSIONS)
        slot, problem = self._slot_by_id(raw_id)
        if problem is not None:
            return problem
        assert slot is not None
        w = self.world
        total = w.timeline_len(slot)
        lo, hi = max(0, total - TIMELINE_CAP), total - 1
        bounds = [upper]
        if until_id is not None:
            bounds.append(until_id - 1)
        if end_ms is not None:
            bounds.append(synth.snowflake(end_ms, 0) - 1)
        for bound in bounds:
            if bound is not None:
                hi = w.index_at_or_below(slot, bound, lo, hi)
        floors = []
        if since_id is not None:
            floors.append(since_id)
        if start_ms is not None:
            floors.append(synth.snowflake(start_ms, 0) - 1)
        for floor in floors:
            lo = max(lo, w.index_at_or_below(slot, floor, lo, hi) + 1)
        picked: list[int] = []
        n = hi
        while n >= lo and len(picked) < count:
            if not exclude or not self._excluded(slot, n, exclude):
                picked.append(n)
            n -= 1
        while n >= lo and exclude and self._excluded(slot, n, exclude):
            n -= 1
        tweets = [w.tweet(slot, i) for i in picked]
        meta: dict[str, Any] = {"result_count": len(tweets)}
        if tweets:
            meta["newest_id"] = str(tweets[0].id)
            meta["oldest_id"] = str(tweets[-1].id)
        if tweets and n >= lo:
            meta["next_token"] = encode_tweets_token(w.tweet_id(slot, n))
        if not tweets:
            return {"meta": meta}
        return {**r.tweets_page(tweets), "meta": meta}

    def _excluded(self, slot: int, n: int, exclude: frozenset[str]) -> bool:
        t = self.world.tweet(slot, n)
        return ("retweets" in exclude and t.retweeted is not None) or ("replies" in exclude and t.kind == "reply")


# -- the recorded dataset ---------------------------------------------------------------------

RECORDINGS = Path(__file__).parent / "recordings" / "twitter-v2"


def _load(name: str) -> Any:
    return json.loads((RECORDINGS / f"tweepy__{name}.body.json").read_text(encoding="utf-8"))


class RecordedV2:
    """The recorded v2 payloads, served as recorded (default fields only, whatever is asked):
    @Twitter (id 783214) by username, one page of its followers and one of its tweets; each
    recorded ``next_token`` leads to an empty page. Other accounts are unknown."""

    dataset = "recorded"

    def __init__(self) -> None:
        self.user = _load("test_client_get_user__0")
        self.followers = _load("test_client_get_users_followers__0")
        self.tweets = _load("test_client_get_users_tweets__0")
        self.user_id = self.user["data"]["id"]
        self.username = self.user["data"]["username"]

    def me_id(self) -> str:
        """The recorded user (@Twitter) stands for the user of the access tokens."""
        return str(self.user_id)

    def resolve_user(self, handle_or_id: str) -> str | None:
        name = handle_or_id.lstrip("@")
        return self.user_id if name == self.user_id or name.lower() == self.username.lower() else None

    def call(self, endpoint: str, value: str, params: Params) -> Any:
        check_params(endpoint, params)
        for name, allowed in (("user.fields", USER_FIELDS), ("tweet.fields", TWEET_FIELDS),
                              ("media.fields", MEDIA_FIELDS)):
            field_set(params, name, allowed)
        if endpoint == "users/by/username":
            if not _USERNAME.match(value):
                raise invalid_request("username", value, f"The `username` query parameter value [{value}] "
                                                         "does not match ^[A-Za-z0-9_]{1,15}$")
            if value.lower() != self.username.lower():
                return {"errors": [user_problem("missing", "username", value)]}
            return self.user
        if endpoint == "users/me":
            return self.user
        if not _ID.match(value):
            raise invalid_request("id", value, f"The `id` query parameter value [{value}] does not match ^[0-9]{{1,19}}$")
        if value != self.user_id:
            return {"errors": [user_problem("missing", "id", value)]}
        if endpoint == "users/tweets":
            max_results(params, 5, 100, 10)
            page = self.tweets
        else:
            max_results(params, 1, 1000, 100)
            page = self.followers if endpoint == "users/followers" else {"meta": {"result_count": 0}}
        if params.get("pagination_token") is not None:
            return {"meta": {"result_count": 0}}
        return page
