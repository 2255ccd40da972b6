"""Twitter API v2 payloads → items (PRODUCT.md §3, §4; rules in :mod:`twitter_crawler.items`).

The same items as :mod:`twitter_crawler.api.v1.parse` for the same world, read from v2's shapes:
``{"data": ..., "includes": {"users", "tweets", "media"}, "meta": ..., "errors": [...]}``. Pure
functions, no Scrapy; every field is read defensively (a missing or oddly typed field gives
``None``, never an exception) and one odd object never costs the rest of its page.

How v2 maps onto the items:

* Account: ``username`` → handle, ``name``, ``description``, ``location``, ``url`` = the expanded
  ``entities.url.urls[0]`` (else the t.co ``url``; v2 sends ``""`` for none), ``profile_image_url``,
  ``public_metrics`` (``followers_count``, ``following_count``, ``tweet_count``,
  ``listed_count``), ``verified``, ``protected``, ``created_at``.
* Tweet: ``text`` (``note_tweet.text`` for long posts) HTML-unescaped; a retweet's message is the
  retweeted tweet's text, from ``includes.tweets``; ``tweetType`` from ``referenced_tweets``
  (``retweeted`` > ``quoted`` > ``replied_to``); ``inReplyToId`` = the ``replied_to`` id;
  ``public_metrics`` gives ``retweetCount``, ``likeCount`` and (v2 only) ``replyCount``;
  ``conversationId`` (v2 only); ``source`` when present (v2 stopped sending it for most apps).
* References: a data tweet gets a ``reference`` edge to each tweet it retweets, quotes or
  replies to that is in ``includes.tweets`` (replies too: v2 embeds the replied-to tweet, v1.1
  never did). Included tweets are one level deep: they name their own references by id only
  (``tweetType``, ``inReplyToId``), without edges, as v1.1's embedded tweets do.
* Media: a tweet's ``attachments.media_keys`` that are in ``includes.media`` (v2 expands media of
  the data tweets only: a quoted or replied-to tweet's media appear only when the same page also
  carries the tweet itself or a retweet of it). ``externalId`` is the id in the media key
  (``3_<id>``). Photo: ``url``, ``width``, ``height``. Video: the highest ``bit_rate``
  ``video/mp4`` variant, ``preview_image_url``, ``duration_ms`` (videos only), ``isGif``.
* Links: ``entities.urls`` (``expanded_url``, ``display_url``) except the tweet's own media
  links (those with a ``media_key``, or ``…/status/<own id>/photo|video/<n>``), the permalink
  of the quoted tweet (v2 keeps it in the text and in ``entities.urls``) and ``/i/web/status/``
  self links.
* Mentions: a minimal Account (``externalId``, ``handle``, and ``displayName`` when the user is
  in ``includes.users``). The id comes from the mention entity (current v2), else from
  ``includes.users`` by username (older payloads); a mention with neither is skipped.
* A retweet carries no media, link or mention edges (they belong to the original).

Errors. v2 answers errors as RFC 7807 "problem" JSON (``title``, ``detail``, ``type``,
``status``) with an HTTP status, and also inside 200 answers, as ``errors[]`` beside (or instead
of) ``data``: an unknown or suspended username, a protected account's tweets
(``not-authorized-for-resource``). :func:`check_error` raises :class:`ProblemError` for every
non-2xx answer; 2xx answers never raise there: their ``errors`` are returned by the parsers as
``page.errors`` (:class:`Problem`), and ``page.error`` turns them into a :class:`ProblemError`
when the page has no data at all. :func:`parse_user_response` raises it (there is no user to
return). Each problem has a ``kind`` (a code-like name) and, where one exists, the v1.1 error code
with the same meaning in ``ProblemError.codes``, so v1.1 error handling applies unchanged:

=============================================  ============================  ======  ======
answer                                         kind                          status  codes
=============================================  ============================  ======  ======
401 (any authentication failure)               ``bad-credentials``           401     32
403 ``client-forbidden`` (app not enrolled)    ``access-level``              403     453
403 ``unsupported-authentication``             ``unsupported-authentication`` 403    215
429 ``about:blank``                            ``rate-limited``              429     88
429 ``usage-capped`` (monthly cap)             ``usage-capped``              429     —
200 ``resource-not-found`` user                ``user-not-found``            200     50
200 ``resource-not-found`` "User has been      ``user-suspended``            200     63
suspended" (title ``Forbidden``)
200 ``not-authorized-for-resource``            ``not-authorized``            200     179
    (protected account)
200 ``resource-not-found`` tweet/media         ``resource-not-found``        200     —
400 ``invalid-request``                        ``invalid-request``           400     —
404                                            ``not-found``                 404     34
5xx                                            ``server-error``              5xx     —
=============================================  ============================  ======  ======

A v1.1-shaped body (``{"errors": [{"code", "message"}]}``), which some v2 answers still use,
keeps its codes and gets the kind of those codes.

"Stop", not "wait" (X_API_2026.md §4): :func:`stop_problem` picks out the 4xx answers that no
waiting cures: a usage cap (``usage-capped``, its ``period`` and ``scope`` kept on the
:class:`Problem`), a 402, and any problem ``type`` the table does not know (credits exhausted
has no documented shape). The rate-limit middleware never parks them; the error middleware
closes the crawl on them.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from twitter_crawler.api.common import (
    Collector,
    as_bool as _bool,
    as_dict as _d,
    as_id as _id,
    as_int as _int,
    as_list as _l,
    as_str as _s,
    best_mp4,
    load_json,
    source_name,
    text_excerpt,
    to_iso_utc,
    unescape,
)
from twitter_crawler.exceptions import MalformedPayload, TwitterAPIError
from twitter_crawler.items import Account, Photo, Tweet, Video, Website, ref

__all__ = [
    "Problem",
    "ProblemError",
    "UsersPage",
    "TimelinePage",
    "check_error",
    "stop_problem",
    "stop_problem_of",
    "load_json",
    "load_response",
    "problems_of",
    "parse_user",
    "parse_user_response",
    "parse_users_page",
    "parse_tweet",
    "parse_timeline",
]

END_CURSOR = "0"

#: The v1.1 error code of each kind, where one exists (see the module docstring).
V1_CODES: dict[str, tuple[int, ...]] = {
    "bad-credentials": (32,),
    "access-level": (453,),
    "unsupported-authentication": (215,),
    "rate-limited": (88,),
    "user-not-found": (50,),
    "user-suspended": (63,),
    "not-authorized": (179,),
    "not-found": (34,),
}
_KIND_OF_CODE = {
    32: "bad-credentials", 89: "bad-credentials", 135: "bad-credentials", 215: "bad-credentials",
    453: "access-level", 88: "rate-limited", 50: "user-not-found", 63: "user-suspended",
    34: "not-found", 179: "not-authorized",
}  # fmt: skip


# --------------------------------------------------------------------------------------------
# Errors


@dataclass(slots=True)
class Problem:
    """One v2 problem: a whole error answer, or one entry of ``errors[]`` in a 200.

    ``type`` is the full URI (``https://api.twitter.com/2/problems/resource-not-found``) or
    ``about:blank``; ``problem`` its last part; ``kind`` the code-like outcome name of the table
    in the module docstring. ``resource_*``, ``parameter``, ``value`` and ``section`` are as sent
    (``None`` when absent).
    """

    kind: str
    problem: str
    type: str | None = None
    title: str | None = None
    detail: str | None = None
    status: int | None = None
    resource_type: str | None = None
    resource_id: str | None = None
    parameter: str | None = None
    value: str | None = None
    section: str | None = None
    reason: str | None = None
    code: int | None = None
    period: str | None = None  # usage-capped: ``Daily`` or ``Monthly``
    scope: str | None = None  # usage-capped: ``Account`` or ``Product``

    @property
    def message(self) -> str:
        return self.detail or self.title or self.reason or self.kind

    @property
    def codes(self) -> tuple[int, ...]:
        if self.code is not None:
            return (self.code,)
        return V1_CODES.get(self.kind, ())


class ProblemError(TwitterAPIError):
    """A :class:`~twitter_crawler.exceptions.TwitterAPIError` from a v2 answer.

    ``status`` and ``codes`` (the v1.1 codes of the same meaning) as the base class; ``kind``
    the outcome name of the first problem; ``problems`` all of them."""

    def __init__(
        self, status: int, problems: list[Problem] | None = None, message: str = ""
    ) -> None:
        problems = problems or []
        codes: list[int] = []
        for p in problems:
            for code in p.codes:
                if code not in codes:
                    codes.append(code)
        kind = problems[0].kind if problems else _kind_of_status(status)
        if not codes:
            codes = list(V1_CODES.get(kind, ()))
        text = message or "; ".join(dict.fromkeys(p.message for p in problems if p.message))
        super().__init__(status, tuple(codes), text)
        self.problems = problems
        self.kind = kind


def _kind_of_status(status: int | None) -> str:
    if status == 401:
        return "bad-credentials"
    if status == 429:
        return "rate-limited"
    if status == 404:
        return "not-found"
    if status == 403:
        return "forbidden"
    if status == 400:
        return "invalid-request"
    if status is not None and status >= 500:
        return "server-error"
    return "error"


_SUFFIX_KIND = {
    "not-authorized-for-resource": "not-authorized",
    "client-forbidden": "access-level",
    "unsupported-authentication": "unsupported-authentication",
    "usage-capped": "usage-capped",
    "invalid-request": "invalid-request",
    "resource-unavailable": "unavailable",
    "not-authorized-for-field": "not-authorized-for-field",
    "disallowed-resource": "forbidden",
}


def _problem(obj: dict, status: int | None) -> Problem:
    """A :class:`Problem` from a problem object (or a v1.1-style ``{code, message}``)."""
    type_uri = _s(obj.get("type"))
    suffix = "about:blank"
    if type_uri and type_uri != "about:blank":
        suffix = type_uri.rstrip("/").rsplit("/", 1)[-1]
    own_status = _int(obj.get("status"))
    effective = own_status if own_status is not None else status
    title, detail = _s(obj.get("title")), _s(obj.get("detail"))
    resource_type = _s(obj.get("resource_type"))
    code = _int(obj.get("code"))
    if code is not None:
        kind = _KIND_OF_CODE.get(code, _kind_of_status(effective))
        detail = detail or _s(obj.get("message"))
    elif suffix == "resource-not-found":
        suspended = (detail or "").startswith("User has been suspended") or title == "Forbidden"
        if resource_type == "user" or suspended:
            kind = "user-suspended" if suspended else "user-not-found"
        else:
            kind = "resource-not-found"
    elif suffix in _SUFFIX_KIND:
        kind = _SUFFIX_KIND[suffix]
    else:
        kind = _kind_of_status(effective)
    if code is None and suffix == "about:blank" and not (title or detail):
        detail = _s(obj.get("message"))
    return Problem(
        kind=kind, problem=suffix, type=type_uri, title=title, detail=detail, status=own_status,
        resource_type=resource_type, resource_id=_str_id(obj.get("resource_id")),
        parameter=_s(obj.get("parameter")), value=_str_id(obj.get("value")),
        section=_s(obj.get("section")), reason=_s(obj.get("reason")), code=code,
        period=_s(obj.get("period")), scope=_s(obj.get("scope")),
    )


def problems_of(payload: Any, status: int | None = None) -> list[Problem]:
    """The problems of a decoded body, ``[]`` when there is none.

    * a top-level problem (``title``/``detail``/``type``, as in every non-2xx v2 answer) is one
      :class:`Problem`; the messages of its ``errors[]`` details (an ``invalid-request`` names
      each bad parameter there) are appended to its ``detail``;
    * otherwise each entry of ``errors[]``: the partial errors of a 200 answer, or the
      ``{"code", "message"}`` entries of a v1.1-style body."""
    if type(payload) is not dict:
        return []
    errors = [e for e in _l(payload.get("errors")) if type(e) is dict or type(e) is str]
    if any(type(payload.get(k)) is str for k in ("title", "detail", "type")):
        main = _problem(payload, status)
        extra = [e if type(e) is str else _s(e.get("message")) or _s(e.get("detail"))
                 for e in errors]
        extra = [m for m in extra if m and m != main.detail]
        if extra:
            main.detail = " ".join(filter(None, [main.detail, *extra]))
        return [main]
    out: list[Problem] = []
    for error in errors:
        if type(error) is dict:
            out.append(_problem(error, status))
        else:
            out.append(Problem(kind=_kind_of_status(status), problem="about:blank", detail=error))
    return out


#: Problem types of a 4xx answer that mean "wait": the rate-limit middleware parks them.
RATE_LIMIT_PROBLEMS = frozenset(("about:blank", "rate-limit-exceeded"))
#: Problem types of a 4xx answer that the crawl handles by name (a credential, an access level,
#: one bad request or resource): not a reason to stop everything. Any other type on a 4xx
#: (X_API_2026.md §4: a usage cap, a refusal for lack of credits, whose shape is undocumented)
#: is one waiting cannot cure.
KNOWN_PROBLEMS = RATE_LIMIT_PROBLEMS | frozenset((
    "invalid-request", "resource-not-found", "not-authorized-for-resource", "client-forbidden",
    "unsupported-authentication", "resource-unavailable", "not-authorized-for-field",
    "disallowed-resource",
))  # fmt: skip


def stop_problem(status: int, problems: list[Problem]) -> Problem | None:
    """The problem of an answer that means "stop", not "wait" (X_API_2026.md §4), else None.

    A usage cap (``usage-capped``, with ``period`` and ``scope``), a 402 (payment: credits), or
    any problem type not in :data:`KNOWN_PROBLEMS` on a 4xx other than 401 (401 is always the
    credentials). Rate limits (``about:blank``, ``rate-limit-exceeded``, v1.1 code 88), a 429
    without a readable problem, v1.1-shaped ``{"errors": [{"code"}]}`` bodies and the 200
    answers' ``errors`` are never a stop: waiting, or the per-resource rules, apply to them."""
    if not 400 <= status < 500 or status == 401:
        return None
    main = problems[0] if len(problems) == 1 and problems[0].code is None else None
    if main is not None and main.problem == "usage-capped":
        return main
    if status == 402:
        return main or Problem(kind="payment-required", problem="about:blank", status=402,
                               title="Payment Required")
    if main is None or main.type is None or main.problem in KNOWN_PROBLEMS:
        return None
    return main


def stop_problem_of(status: int, body: bytes) -> Problem | None:
    """:func:`stop_problem` of a raw answer (for components that see bodies, not errors)."""
    if not 400 <= status < 500 or status == 401:
        return None
    error = _error_from_body(status, body)
    problem = stop_problem(status, error.problems)
    if problem is not None and problem.detail is None and not error.problems:
        problem.detail = error.message or None  # a 402 whose body is no problem: say what it was
    return problem


def _error_from_body(status: int, body: bytes | str) -> ProblemError:
    try:
        payload = json.loads(body)
    except (ValueError, TypeError):
        return ProblemError(status, [], text_excerpt(body))
    problems = problems_of(payload, status)
    if not problems:
        text = payload if type(payload) is str else ""
        return ProblemError(status, [], text)
    return ProblemError(status, problems)


def check_error(status: int, body: bytes) -> None:
    """Raise :class:`ProblemError` for a non-2xx answer (problem JSON, a v1.1-style ``errors``
    body, or a non-JSON body with ``codes=()``) and :class:`MalformedPayload` for a 2xx body that
    is not JSON. The ``errors`` of a 2xx answer never raise here (see the parsers)."""
    load_response(status, body)


def load_response(status: int, body: bytes) -> Any:
    """:func:`check_error` and :func:`load_json` with a single decode: the payload of a 2xx."""
    if not 200 <= status < 300:
        raise _error_from_body(status, body)
    return load_json(body)


# --------------------------------------------------------------------------------------------
# Odd objects (field access helpers are in twitter_crawler.api.common)


def _str_id(value: Any) -> str | None:
    if type(value) is str:
        return value
    if type(value) is int:
        return str(value)
    return None


def _describe(obj: Any) -> str:
    if type(obj) is dict:
        bits = [f"{key}={obj[key]!r}" for key in ("id", "username") if obj.get(key) is not None]
        return f"object ({', '.join(bits)})" if bits else "object"
    return type(obj).__name__


# --------------------------------------------------------------------------------------------
# Results


@dataclass(slots=True)
class UsersPage:
    """One page of ``/2/users/:id/followers`` or ``/following``.

    ``next_cursor`` is ``meta.next_token``, or ``"0"`` at the end of the list (also when the
    payload has no meta at all, so a walk can never loop); ``previous_cursor`` likewise with
    ``meta.previous_token``. ``skipped``: one reason per user object not imported. ``errors``:
    the problems of the answer (a protected or suspended account, ...); ``error`` is them as a
    :class:`ProblemError` when the page has no ``data``.
    """

    users: list[Account]
    next_cursor: str = END_CURSOR
    previous_cursor: str = END_CURSOR
    skipped: list[str] = field(default_factory=list)
    errors: list[Problem] = field(default_factory=list)
    result_count: int | None = None
    has_data: bool = True

    @property
    def error(self) -> ProblemError | None:
        if self.errors and not self.has_data:
            return ProblemError(200, self.errors)
        return None


@dataclass(slots=True)
class TimelinePage:
    """One page of ``/2/users/:id/tweets``.

    ``items``: accounts, then tweets (referenced ones before those referencing them), then
    photos, videos and websites, then edges; each key once (a second sighting is merged).
    ``tweet_ids``: ``id`` of the page's own (kept) tweets in payload order, for paging and
    watermarks. ``skipped``: one reason per object that could not be imported at all.

    ``next_token``: ``meta.next_token`` (``None`` at the end). ``errors``: the problems of the
    answer (a protected account: ``not-authorized``); ``error`` is them as a
    :class:`ProblemError` when the page has no ``data``. ``result_count``, ``newest_id`` and
    ``oldest_id`` are the ``meta`` values as sent.
    """

    items: list[Any]
    tweet_ids: list[str]
    skipped: list[str] = field(default_factory=list)
    next_token: str | None = None
    errors: list[Problem] = field(default_factory=list)
    result_count: int | None = None
    newest_id: str | None = None
    oldest_id: str | None = None
    has_data: bool = True

    @property
    def min_id(self) -> str | None:
        """The lowest own tweet id."""
        ids = [int(i) for i in self.tweet_ids if i.isascii() and i.isdigit()]
        return str(min(ids)) if ids else None

    @property
    def max_id(self) -> str | None:
        """The highest own tweet id (the timeline's next ``since_id`` watermark)."""
        ids = [int(i) for i in self.tweet_ids if i.isascii() and i.isdigit()]
        return str(max(ids)) if ids else None

    @property
    def error(self) -> ProblemError | None:
        if self.errors and not self.has_data:
            return ProblemError(200, self.errors)
        return None


# --------------------------------------------------------------------------------------------
# Users


def parse_user(obj: Any, *, me_id: str | None = None) -> Account:
    """A full :class:`Account` from a v2 user object.

    ``isMe`` is ``id == me_id``, or ``None`` (unknown) when ``me_id`` is ``None``.
    Raises :class:`MalformedPayload` for an object without ``id``.
    """
    if type(obj) is not dict:
        raise MalformedPayload(f"user is not an object: {_describe(obj)}")
    uid = _id(obj.get("id"))
    if uid is None or not (uid.isascii() and uid.isdigit()):
        raise MalformedPayload(f"user without a valid id: {_describe(obj)}")
    url = None
    for link in _l(_d(_d(obj.get("entities")).get("url")).get("urls")):
        if type(link) is dict:
            url = _s(link.get("expanded_url")) or _s(link.get("url"))
        break
    if not url:
        url = _s(obj.get("url")) or None  # v2 sends "" when the profile has no link
    metrics = _d(obj.get("public_metrics"))
    return Account(
        uid,
        handle=_s(obj.get("username")),
        displayName=_s(obj.get("name")),
        description=_s(obj.get("description")),
        location=_s(obj.get("location")),
        url=url,
        avatarUrl=_s(obj.get("profile_image_url")),
        followersCount=_int(metrics.get("followers_count")),
        followingCount=_int(metrics.get("following_count")),
        tweetCount=_int(metrics.get("tweet_count")),
        listedCount=_int(metrics.get("listed_count")),
        verified=_bool(obj.get("verified")),
        protected=_bool(obj.get("protected")),
        dateJoined=to_iso_utc(obj.get("created_at")),
        isMe=None if me_id is None else uid == me_id,
    )


def parse_user_response(payload: Any, *, me_id: str | None = None) -> Account:
    """``/2/users/by/username/:username``: the Account of ``data``.

    An answer without ``data`` raises :class:`ProblemError` (status 200) from its ``errors``:
    ``user-not-found`` (code 50) or ``user-suspended`` (code 63). Anything else without a user
    is :class:`MalformedPayload`."""
    if type(payload) is not dict:
        raise MalformedPayload(f"expected an object, got {_describe(payload)}")
    data = payload.get("data")
    if type(data) is dict:
        return parse_user(data, me_id=me_id)
    problems = problems_of(payload, 200)
    if problems:
        raise ProblemError(200, problems)
    raise MalformedPayload(f"expected a user in data, got {_describe(data)}")


def parse_users_page(payload: Any, *, me_id: str | None = None) -> UsersPage:
    """A followers/following page. Odd user objects are skipped and counted."""
    if type(payload) is not dict:
        raise MalformedPayload(f"expected an object, got {_describe(payload)}")
    data = payload.get("data")
    if data is not None and type(data) is not list:
        raise MalformedPayload(f"expected a list of users in data, got {_describe(data)}")
    skipped: list[str] = []
    users: list[Account] = []
    for index, obj in enumerate(_l(data)):
        try:
            users.append(parse_user(obj, me_id=me_id))
        except MalformedPayload as exc:
            skipped.append(f"user #{index}: {exc}")
    meta = _d(payload.get("meta"))
    return UsersPage(
        users,
        _s(meta.get("next_token")) or END_CURSOR,
        _s(meta.get("previous_token")) or END_CURSOR,
        skipped,
        problems_of(payload, 200),
        _int(meta.get("result_count")),
        data is not None,
    )


# --------------------------------------------------------------------------------------------
# Tweets


class _Includes:
    """``includes`` indexed by id/key. With ``restrict``, only what the given data tweets
    reference (their expansions), as the API would have answered for those tweets alone."""

    __slots__ = ("users", "names", "tweets", "media")

    def __init__(self, includes: Any, data: list[Any], restrict: bool) -> None:
        inc = _d(includes)
        self.users: dict[str, dict] = {}
        self.names: dict[str, dict] = {}
        self.tweets: dict[str, dict] = {}
        self.media: dict[str, dict] = {}
        for obj in _l(inc.get("tweets")):
            if type(obj) is dict and _id(obj.get("id")):
                self.tweets.setdefault(obj["id"], obj)
        for obj in _l(inc.get("media")):
            if type(obj) is dict and _id(obj.get("media_key")):
                self.media.setdefault(obj["media_key"], obj)
        users = [obj for obj in _l(inc.get("users")) if type(obj) is dict and _id(obj.get("id"))]
        if restrict:
            wanted_tweets: set[str] = set()
            wanted_users: set[str] = set()
            wanted_names: set[str] = set()
            wanted_media: set[str] = set()
            for t in data:
                if type(t) is not dict:
                    continue
                author = _id(t.get("author_id"))
                if author:
                    wanted_users.add(author)
                reply_user = _id(t.get("in_reply_to_user_id"))
                if reply_user:
                    wanted_users.add(reply_user)
                for r in _l(t.get("referenced_tweets")):
                    rid = _id(_d(r).get("id"))
                    if rid:
                        wanted_tweets.add(rid)
                        author = _id(_d(self.tweets.get(rid)).get("author_id"))
                        if author:
                            wanted_users.add(author)
                for m in _l(_d(t.get("entities")).get("mentions")):
                    m = _d(m)
                    if _id(m.get("id")):
                        wanted_users.add(m["id"])
                    elif _s(m.get("username")):
                        wanted_names.add(m["username"].lower())
                for key in _l(_d(t.get("attachments")).get("media_keys")):
                    if type(key) is str:
                        wanted_media.add(key)
            self.tweets = {k: v for k, v in self.tweets.items() if k in wanted_tweets}
            self.media = {k: v for k, v in self.media.items() if k in wanted_media}
            users = [u for u in users if u["id"] in wanted_users
                     or (_s(u.get("username")) or "").lower() in wanted_names]
        for obj in users:
            self.users.setdefault(obj["id"], obj)
            name = _s(obj.get("username"))
            if name:
                self.names.setdefault(name.lower(), obj)


_STATUS_LINK = re.compile(r"/status(?:es)?/(\d+)(/(?:photo|video)/\d+)?/?(?:[?#].*)?$")


def _text(obj: Any) -> str | None:
    """The full text: ``note_tweet.text`` for long posts, else ``text``; HTML-unescaped."""
    note = _s(_d(obj.get("note_tweet")).get("text"))
    return unescape(note if note is not None else obj.get("text"))


def _refs(obj: Any) -> dict[str, str]:
    """``{"retweeted"|"quoted"|"replied_to": id}`` (the first of each type)."""
    out: dict[str, str] = {}
    for r in _l(obj.get("referenced_tweets")):
        r = _d(r)
        kind, rid = _s(r.get("type")), _id(r.get("id"))
        if kind and rid and kind not in out:
            out[kind] = rid
    return out


def _author(obj: Any, tid: str, inc: _Includes, me_id: str | None, c: Collector,
            skipped: list[str]) -> str | None:
    author_id = _id(obj.get("author_id"))
    if author_id is None:
        return None
    user = inc.users.get(author_id)
    if user is None:
        skipped.append(f"author {author_id} of tweet {tid} is not in includes.users")
        return None
    try:
        account = parse_user(user, me_id=me_id)
    except MalformedPayload as exc:
        skipped.append(f"author of tweet {tid}: {exc}")
        return None
    c.add(c.accounts, ("Account", account.externalId), account)
    return account.externalId


def _parse_media(tid: str, tweet_ref: dict[str, str], keys: Any, inc: _Includes, c: Collector,
                 skipped: list[str]) -> None:
    for key in keys:
        m = inc.media.get(key) if type(key) is str else None
        if m is None:
            continue  # not expanded (a referenced tweet's media): nothing to import
        _, _, mid = key.partition("_")
        if not (mid.isascii() and mid.isdigit()):
            skipped.append(f"media of tweet {tid} with an odd media_key {key!r}")
            continue
        kind = m.get("type")
        if kind == "photo":
            c.medium(tweet_ref, Photo(mid, _s(m.get("url")), _int(m.get("width")),
                                      _int(m.get("height"))))
        elif kind == "video" or kind == "animated_gif":
            duration = _int(m.get("duration_ms")) if kind == "video" else None
            c.medium(tweet_ref, Video(mid, best_mp4(m.get("variants")),
                                      _s(m.get("preview_image_url")), duration,
                                      kind == "animated_gif"))
        else:
            skipped.append(f"media {mid} of tweet {tid}: unknown type {kind!r}")


def _entities(obj: Any, tid: str, tweet_ref: dict[str, str], refs: dict[str, str],
              inc: _Includes, c: Collector, skipped: list[str]) -> None:
    entities = _d(obj.get("entities"))
    for mention in _l(entities.get("mentions")):
        if type(mention) is not dict:
            continue
        name = _s(mention.get("username"))
        uid = _id(mention.get("id"))
        user = inc.users.get(uid) if uid else None
        if user is None and name:
            user = inc.names.get(name.lower())
            if uid is None and user is not None:
                uid = _id(user.get("id"))
        if uid is None or not (uid.isascii() and uid.isdigit()):
            skipped.append(f"mention {name!r} in tweet {tid} without a user id")
            continue
        display = _s(user.get("name")) if user is not None else None
        c.add(c.accounts, ("Account", uid), Account(uid, handle=name, displayName=display))
        c.edge("mention", tweet_ref, "Account", uid)
    quoted = refs.get("quoted")
    for link in _l(entities.get("urls")):
        if type(link) is not dict:
            continue
        url = _s(link.get("expanded_url"))
        if not url or link.get("media_key") is not None:
            continue
        m = _STATUS_LINK.search(url)
        if m and ((m.group(1) == tid and m.group(2)) or (quoted and m.group(1) == quoted)):
            continue  # the tweet's own media link, or the quoted tweet's permalink
        if url.endswith("/i/web/status/" + tid):
            continue
        c.add(c.media, ("Website", url), Website(url, _s(link.get("display_url"))))
        c.edge("link", tweet_ref, "Website", url)


def _tweet(obj: Any, inc: _Includes, me_id: str | None, c: Collector, skipped: list[str],
           data: bool, what: str) -> str | None:
    """Adds one tweet (and, for a data tweet, what it references) to ``c``; its id or None."""
    if type(obj) is not dict:
        skipped.append(f"{what}: not an object ({_describe(obj)})")
        return None
    tid = _id(obj.get("id"))
    if tid is None:
        skipped.append(f"{what} without id: {_describe(obj)}")
        return None
    tweet_ref = ref("Tweet", tid)
    refs = _refs(obj)
    is_retweet = "retweeted" in refs
    targets: list[str] = []
    message = _text(obj)
    if is_retweet:
        tweet_type = "retweet"
        original = inc.tweets.get(refs["retweeted"])
        if original is not None:
            text = _text(original)
            message = text if text is not None else message
    elif "quoted" in refs:
        tweet_type = "quote"
    elif "replied_to" in refs:
        tweet_type = "reply"
    else:
        tweet_type = "tweet"
    if data:
        # Referenced tweets first: they come before this one in the tweets bucket.
        for kind in ("retweeted", "quoted", "replied_to"):
            rid = refs.get(kind)
            if rid is None or (is_retweet and kind != "retweeted"):
                continue
            target = inc.tweets.get(rid)
            if target is None:
                continue  # not in the payload (deleted, withheld): no edge
            label = f"{kind.replace('_', ' ')} tweet of {tid}"
            got = _tweet(target, inc, me_id, c, skipped, False, label)
            if got is not None:
                targets.append(got)

    author_id = _author(obj, tid, inc, me_id, c, skipped)
    metrics = _d(obj.get("public_metrics"))
    tweet = Tweet(
        tid,
        message=message,
        postDate=to_iso_utc(obj.get("created_at")),
        tweetType=tweet_type,
        lang=_s(obj.get("lang")),
        source=source_name(obj.get("source")),
        retweetCount=_int(metrics.get("retweet_count")),
        likeCount=_int(metrics.get("like_count")),
        inReplyToId=refs.get("replied_to"),
        replyCount=_int(metrics.get("reply_count")),
        conversationId=_id(obj.get("conversation_id")),
    )
    c.add(c.tweets, ("Tweet", tid), tweet)
    if author_id is not None:
        c.edge("author", tweet_ref, "Account", author_id)
    for target in targets:
        c.edge("reference", tweet_ref, "Tweet", target)
    if is_retweet:
        return tid  # media, links and mentions belong to the original
    # Keys not in includes.media are skipped silently: v2 expands the media of data tweets only
    # (a retweet brings its original's), so a quoted or replied-to tweet's media are often absent.
    _parse_media(tid, tweet_ref, _l(_d(obj.get("attachments")).get("media_keys")), inc, c, skipped)
    _entities(obj, tid, tweet_ref, refs, inc, c, skipped)
    return tid


def parse_tweet(
    obj: Any, *, includes: Any = None, me_id: str | None = None, skipped: list[str] | None = None
) -> list[Any]:
    """The items of one v2 tweet object read as a data tweet, with the page's ``includes``.

    Raises :class:`MalformedPayload` when the tweet itself cannot be imported (not an object,
    no ``id``); what it references that cannot be imported is left out, with reasons appended
    to ``skipped`` when a list is given."""
    reasons: list[str] = [] if skipped is None else skipped
    c = Collector()
    inc = _Includes(includes, [obj], restrict=False)
    if _tweet(obj, inc, me_id, c, reasons, True, "tweet") is None:
        raise MalformedPayload(reasons[-1])
    return c.items()


def parse_timeline(
    payload: Any, *, me_id: str | None = None, limit: int | None = None
) -> TimelinePage:
    """A ``/2/users/:id/tweets`` page.

    ``limit``: import only the first ``limit`` data tweets (the API's ``max_results`` is at least
    5), and only what those reference: the rest of the page is ignored, ``includes`` included, as
    if the API had answered with those tweets alone. A page without ``data`` (the end of the
    timeline, ``meta.result_count == 0``, or an error) has no items."""
    if type(payload) is not dict:
        raise MalformedPayload(f"expected an object, got {_describe(payload)}")
    data = payload.get("data")
    if data is not None and type(data) is not list:
        raise MalformedPayload(f"expected a list of tweets in data, got {_describe(data)}")
    tweets = list(_l(data))
    restrict = limit is not None and limit < len(tweets)
    if restrict:
        tweets = tweets[: max(0, limit)]  # type: ignore[operator]
    inc = _Includes(payload.get("includes"), tweets, restrict)
    c = Collector()
    skipped: list[str] = []
    tweet_ids: list[str] = []
    for index, obj in enumerate(tweets):
        tid = _id(obj.get("id")) if type(obj) is dict else None
        if tid is not None:
            tweet_ids.append(tid)
        try:
            _tweet(obj, inc, me_id, c, skipped, True, f"tweet #{index}")
        except Exception as exc:  # noqa: BLE001 - one odd object never costs the rest of the page
            skipped.append(f"tweet #{index} ({tid}): {type(exc).__name__}: {exc}")
    meta = _d(payload.get("meta"))
    return TimelinePage(
        c.items(),
        tweet_ids,
        skipped,
        _s(meta.get("next_token")) or None,
        problems_of(payload, 200),
        _int(meta.get("result_count")),
        _id(meta.get("newest_id")),
        _id(meta.get("oldest_id")),
        data is not None,
    )
