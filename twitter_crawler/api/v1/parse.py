"""Twitter API v1.1 payloads → items (PRODUCT.md §3, §4; rules in :mod:`twitter_crawler.items`).

Pure functions, no Scrapy. Real payloads are uneven (missing or ``null`` fields, shapes that
differ between endpoints), so every field is read defensively: a missing or oddly typed field gives
``None`` and never an exception. An object that cannot be imported at all (not an object, no
``id_str``) is skipped with a human-readable reason; one odd object never costs the rest of its
page.

Ids are always taken from ``id_str``, never from the numeric ``id`` (other JSON tooling rounds it).

Public functions:

* :func:`check_error`, :func:`load_json`, :func:`load_response`: response bodies;
* :func:`parse_user`, :func:`parse_users_page`, :func:`parse_ids_page`, :func:`parse_lookup`:
  accounts and contact lists;
* :func:`parse_tweet`, :func:`parse_timeline`: statuses;
* :func:`parse_rate_limit_status`: ``application/rate_limit_status``.

Pages are the shared types of :mod:`twitter_crawler.api.pages` (v1.1 leaves v2's fields at their
defaults).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
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
from twitter_crawler.api.pages import END_CURSOR, IdsPage, TimelinePage, UsersPage
from twitter_crawler.exceptions import MalformedPayload, TwitterAPIError
from twitter_crawler.items import Account, Photo, Tweet, Video, Website, ref

__all__ = [
    "IdsPage",
    "RateLimit",
    "TimelinePage",
    "UsersPage",
    "check_error",
    "load_json",
    "load_response",
    "parse_ids_page",
    "parse_lookup",
    "parse_rate_limit_status",
    "parse_timeline",
    "parse_tweet",
    "parse_user",
    "parse_users_page",
]

# retweeted_status → quoted_status is the deepest nesting Twitter sends; this bounds odd payloads.
_MAX_DEPTH = 3


# --------------------------------------------------------------------------------------------
# Results


@dataclass(slots=True)
class RateLimit:
    limit: int | None
    remaining: int | None
    reset: int | None


# --------------------------------------------------------------------------------------------
# Odd objects (field access helpers are in twitter_crawler.api.common)


def _describe(obj: Any) -> str:
    """A short, safe description of an odd object for a skip reason."""
    if type(obj) is dict:
        bits = [f"{key}={obj[key]!r}" for key in ("id", "screen_name") if obj.get(key) is not None]
        return f"object ({', '.join(bits)})" if bits else "object"
    return type(obj).__name__


# --------------------------------------------------------------------------------------------
# Bodies and errors


def _error_from_body(status: int, body: bytes | str) -> TwitterAPIError:
    try:
        payload = json.loads(body)
    except (ValueError, TypeError):
        return TwitterAPIError(status, (), text_excerpt(body))
    codes: list[int] = []
    messages: list[str] = []
    if type(payload) is dict:
        errors = payload.get("errors")
        if type(errors) is list:
            for error in errors:
                if type(error) is dict:
                    code = _int(error.get("code"))
                    if code is not None:
                        codes.append(code)
                    message = _s(error.get("message"))
                    if message:
                        messages.append(message)
                elif type(error) is str:
                    messages.append(error)
        elif type(errors) is str:
            messages.append(errors)
        for key in ("error", "detail", "title"):  # {"error": "Not authorized."}, v2 problem shape
            message = _s(payload.get(key))
            if message and not messages:
                messages.append(message)
    elif type(payload) is str:
        messages.append(payload)
    return TwitterAPIError(status, tuple(codes), "; ".join(messages))


def check_error(status: int, body: bytes) -> None:
    """Raise :class:`TwitterAPIError` for a non-2xx answer (``{"errors": [{code, message}]}``,
    ``{"error": "Not authorized."}``, or a non-JSON body with ``codes=()``), and
    :class:`MalformedPayload` for a 2xx body that is not JSON.

    A 2xx body is decoded here to be checked; :func:`load_response` does both in one decode.
    """
    load_response(status, body)


def load_response(status: int, body: bytes) -> Any:
    """:func:`check_error` and :func:`load_json` with a single JSON decode: the payload of a 2xx."""
    if not 200 <= status < 300:
        raise _error_from_body(status, body)
    return load_json(body)


# --------------------------------------------------------------------------------------------
# Users


def parse_user(obj: Any, *, me_id: str | None = None) -> Account:
    """A full :class:`Account` from a v1.1 user object. The embedded ``status`` is never imported.

    ``isMe`` is true when ``id_str == me_id``, else ``None``: never false, which would erase the
    ``isMe`` of an account another crawl imported (its own profile's) when it is met in a list.
    Raises :class:`MalformedPayload` for an object without ``id_str``.
    """
    if type(obj) is not dict:
        raise MalformedPayload(f"user is not an object: {_describe(obj)}")
    uid = _id(obj.get("id_str"))
    if uid is None:
        raise MalformedPayload(f"user without id_str: {_describe(obj)}")
    url = None
    for link in _l(_d(_d(obj.get("entities")).get("url")).get("urls")):
        if type(link) is dict:
            url = _s(link.get("expanded_url"))
        break
    if not url:
        url = _s(obj.get("url"))
    return Account(
        uid,
        handle=_s(obj.get("screen_name")),
        displayName=_s(obj.get("name")),
        description=_s(obj.get("description")),
        location=_s(obj.get("location")),
        url=url,
        avatarUrl=_s(obj.get("profile_image_url_https")) or _s(obj.get("profile_image_url")),
        followersCount=_int(obj.get("followers_count")),
        followingCount=_int(obj.get("friends_count")),
        tweetCount=_int(obj.get("statuses_count")),
        listedCount=_int(obj.get("listed_count")),
        verified=_bool(obj.get("verified")),
        protected=_bool(obj.get("protected")),
        dateJoined=to_iso_utc(obj.get("created_at")),
        isMe=True if me_id is not None and uid == me_id else None,
    )


def _parse_users(objs: Any, me_id: str | None, skipped: list[str], what: str) -> list[Account]:
    users: list[Account] = []
    for index, obj in enumerate(objs):
        try:
            users.append(parse_user(obj, me_id=me_id))
        except MalformedPayload as exc:
            skipped.append(f"{what} #{index}: {exc}")
    return users


def _cursor(payload: Any, name: str) -> str:
    text = payload.get(name + "_str")
    if type(text) is str and text:
        return text
    number = payload.get(name)
    if type(number) is int:  # Python's json keeps big ints exact
        return str(number)
    if type(number) is str and number:
        return number
    return END_CURSOR


def parse_users_page(payload: Any, *, me_id: str | None = None) -> UsersPage:
    """A ``followers/list`` or ``friends/list`` page. Odd user objects are skipped and counted."""
    if type(payload) is not dict or type(payload.get("users")) is not list:
        raise MalformedPayload(f"expected an object with a users list, got {_describe(payload)}")
    skipped: list[str] = []
    users = _parse_users(payload["users"], me_id, skipped, "user")
    return UsersPage(
        users, _cursor(payload, "next_cursor"), _cursor(payload, "previous_cursor"), skipped
    )


def parse_ids_page(payload: Any) -> IdsPage:
    """A ``followers/ids`` or ``friends/ids`` page; ids become strings (ints or strings given)."""
    if type(payload) is not dict or type(payload.get("ids")) is not list:
        raise MalformedPayload(f"expected an object with an ids list, got {_describe(payload)}")
    ids: list[str] = []
    skipped: list[str] = []
    for index, value in enumerate(payload["ids"]):
        if type(value) is int:
            ids.append(str(value))
        elif type(value) is str and value.isascii() and value.isdigit():
            ids.append(value)
        else:
            skipped.append(f"id #{index}: not an integer id: {value!r}")
    return IdsPage(
        ids, _cursor(payload, "next_cursor"), _cursor(payload, "previous_cursor"), skipped
    )


def parse_lookup(
    payload: Any, *, me_id: str | None = None, skipped: list[str] | None = None
) -> list[Account]:
    """``users/lookup``: a list of user objects. Odd ones are left out (reasons go to ``skipped``
    when a list is given)."""
    if type(payload) is not list:
        raise MalformedPayload(f"expected a list of users, got {_describe(payload)}")
    return _parse_users(payload, me_id, [] if skipped is None else skipped, "user")


# --------------------------------------------------------------------------------------------
# Tweets


def _full_text(obj: Any) -> str | None:
    text = obj.get("full_text")
    if type(text) is not str:
        text = _d(obj.get("extended_tweet")).get("full_text")  # streaming compat payloads
        if type(text) is not str:
            text = obj.get("text")
    return unescape(text)


def _parse_media(
    tid: str, tweet_ref: dict[str, str], media: Any, c: Collector, skipped: list[str]
) -> None:
    for m in media:
        if type(m) is not dict:
            skipped.append(f"media of tweet {tid}: not an object")
            continue
        mid = _id(m.get("id_str"))
        if mid is None:
            skipped.append(f"media of tweet {tid} without id_str: {_describe(m)}")
            continue
        kind = m.get("type")
        image = _s(m.get("media_url_https")) or _s(m.get("media_url"))
        if kind == "photo":
            info = _d(m.get("original_info"))
            width, height = _int(info.get("width")), _int(info.get("height"))
            if width is None or height is None:
                large = _d(_d(m.get("sizes")).get("large"))
                width, height = _int(large.get("w")), _int(large.get("h"))
            c.medium(tweet_ref, Photo(mid, image, width, height))
        elif kind in {"video", "animated_gif"}:
            info = _d(m.get("video_info"))
            duration = _int(info.get("duration_millis"))
            c.medium(tweet_ref, Video(mid, best_mp4(info.get("variants")), image, duration,
                                      kind == "animated_gif"))
        else:
            skipped.append(f"media {mid} of tweet {tid}: unknown type {kind!r}")


def _status(  # noqa: PLR0912, PLR0915
    obj: Any, me_id: str | None, c: Collector, skipped: list[str], depth: int, what: str
) -> str | None:
    """Adds one status and everything it embeds to ``c``; its id, or ``None`` if it was skipped."""
    if type(obj) is not dict:
        skipped.append(f"{what}: not an object ({_describe(obj)})")
        return None
    tid = _id(obj.get("id_str"))
    if tid is None:
        skipped.append(f"{what} without id_str: {_describe(obj)}")
        return None
    tweet_ref = ref("Tweet", tid)

    # Referenced tweets first: they are added to the tweets bucket before this one.
    original = obj.get("retweeted_status")
    is_retweet = type(original) is dict
    original_id = quoted_id = None
    if is_retweet:
        if depth < _MAX_DEPTH:
            label = f"retweeted status of {tid}"
            original_id = _status(original, me_id, c, skipped, depth + 1, label)
        message = _full_text(original)
        if message is None:
            message = _full_text(obj)
        tweet_type = "retweet"
    else:
        message = _full_text(obj)
        quoted = obj.get("quoted_status")
        if type(quoted) is dict:
            tweet_type = "quote"
            if depth < _MAX_DEPTH:
                quoted_id = _status(quoted, me_id, c, skipped, depth + 1, f"quoted status of {tid}")
        elif obj.get("is_quote_status") is True or _id(obj.get("quoted_status_id_str")):
            tweet_type = "quote"
        elif _id(obj.get("in_reply_to_status_id_str")):
            tweet_type = "reply"
        else:
            tweet_type = "tweet"

    author_id = None
    user = obj.get("user")
    if type(user) is dict:
        try:
            account = parse_user(user, me_id=me_id)
        except MalformedPayload as exc:
            skipped.append(f"author of tweet {tid}: {exc}")
        else:
            author_id = account.externalId
            c.add(c.accounts, ("Account", author_id), account)

    tweet = Tweet(
        tid,
        message=message,
        postDate=to_iso_utc(obj.get("created_at")),
        tweetType=tweet_type,
        lang=_s(obj.get("lang")),
        source=source_name(obj.get("source")),
        retweetCount=_int(obj.get("retweet_count")),
        likeCount=_int(obj.get("favorite_count")),
        inReplyToId=_id(obj.get("in_reply_to_status_id_str")),
    )
    c.add(c.tweets, ("Tweet", tid), tweet)

    if author_id is not None:
        c.edge("author", tweet_ref, "Account", author_id)
    if original_id is not None:
        c.edge("reference", tweet_ref, "Tweet", original_id)
    if quoted_id is not None:
        c.edge("reference", tweet_ref, "Tweet", quoted_id)
    if is_retweet:
        return tid  # media, links and mentions belong to the original

    extended = _d(obj.get("extended_tweet"))  # streaming compat payloads carry entities here
    entities = _d(extended.get("entities") or obj.get("entities"))
    media_lists = (
        _l(_d(extended.get("extended_entities") or obj.get("extended_entities")).get("media")),
        _l(entities.get("media")),
    )

    for mention in _l(entities.get("user_mentions")):
        if type(mention) is not dict:
            continue
        uid = _id(mention.get("id_str"))
        if uid is None:
            skipped.append(f"mention in tweet {tid} without id_str: {_describe(mention)}")
            continue
        minimal = Account(
            uid, handle=_s(mention.get("screen_name")), displayName=_s(mention.get("name"))
        )
        c.add(c.accounts, ("Account", uid), minimal)
        c.edge("mention", tweet_ref, "Account", uid)

    _parse_media(tid, tweet_ref, media_lists[0] or media_lists[1], c, skipped)

    media_urls = {_s(m.get("url")) for media in media_lists for m in media if type(m) is dict}
    media_urls.discard(None)
    self_link = "/i/web/status/" + tid  # the "…" link of a text truncated by compat mode
    for link in _l(entities.get("urls")):
        if type(link) is not dict:
            continue
        url = _s(link.get("expanded_url"))
        if not url or _s(link.get("url")) in media_urls or url.endswith(self_link):
            continue
        c.add(c.media, ("Website", url), Website(url, _s(link.get("display_url"))))
        c.edge("link", tweet_ref, "Website", url)
    return tid


def parse_tweet(
    obj: Any, *, me_id: str | None = None, skipped: list[str] | None = None
) -> list[Any]:
    """The items of one status, nodes before edges (see :class:`TimelinePage`).

    Raises :class:`MalformedPayload` when the status itself cannot be imported (not an object, no
    ``id_str``); embedded objects that cannot be imported are left out, with their reasons appended
    to ``skipped`` when a list is given.
    """
    reasons: list[str] = [] if skipped is None else skipped
    c = Collector()
    if _status(obj, me_id, c, reasons, 0, "status") is None:
        raise MalformedPayload(reasons[-1])
    return c.items()


def parse_timeline(payload: Any, *, me_id: str | None = None) -> TimelinePage:
    """A ``statuses/user_timeline`` page: a list of statuses, in ``extended`` or ``compat`` mode."""
    if type(payload) is not list:
        raise MalformedPayload(f"expected a list of statuses, got {_describe(payload)}")
    c = Collector()
    skipped: list[str] = []
    tweet_ids: list[str] = []
    for index, obj in enumerate(payload):
        tid = _id(obj.get("id_str")) if type(obj) is dict else None
        if tid is not None:
            tweet_ids.append(tid)
        try:
            _status(obj, me_id, c, skipped, 0, f"status #{index}")
        except Exception as exc:  # noqa: BLE001 - one odd object never costs the rest of the page
            skipped.append(f"status #{index} ({tid}): {type(exc).__name__}: {exc}")
    return TimelinePage(c.items(), tweet_ids, skipped)


# --------------------------------------------------------------------------------------------
# Rate limits


def parse_rate_limit_status(payload: Any) -> dict[str, RateLimit]:
    """``application/rate_limit_status``: ``{"/statuses/user_timeline": RateLimit(...), ...}``."""
    if type(payload) is not dict or type(payload.get("resources")) is not dict:
        raise MalformedPayload(f"expected an object with resources, got {_describe(payload)}")
    limits: dict[str, RateLimit] = {}
    for family in payload["resources"].values():
        for path, raw in _d(family).items():
            values = _d(raw)
            limits[path] = RateLimit(
                _int(values.get("limit")), _int(values.get("remaining")), _int(values.get("reset"))
            )
    return limits
