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
  ``public_metrics`` gives ``retweetCount``, ``likeCount`` and (v2 only) ``replyCount``,
  ``quoteCount``, ``bookmarkCount`` and ``impressionCount``;
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

Errors. v2 answers errors as RFC 7807 "problem" JSON, with an HTTP status and also inside 200
answers; how they are read (kinds, v1.1 codes of the same meaning, "stop" or "wait") is
:mod:`twitter_crawler.api.problems`, shared with v1.1. :func:`check_error` raises
:class:`ProblemError` for every non-2xx answer; 2xx answers never raise there: their ``errors``
are returned by the parsers as ``page.errors``, and ``page.error`` turns them into a
:class:`ProblemError` when the page has no data at all. :func:`parse_user_response` raises it
(there is no user to return).

Pages are the shared types of :mod:`twitter_crawler.api.pages`.
"""

from __future__ import annotations

import re
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
    to_iso_utc,
    unescape,
)
from twitter_crawler.api.pages import END_CURSOR, TimelinePage, UsersPage
from twitter_crawler.api.problems import (
    Problem,
    ProblemError,
    error_from_body,
    problems_of,
    stop_problem,
    stop_problem_of,
)
from twitter_crawler.exceptions import MalformedPayload
from twitter_crawler.items import Account, Photo, Tweet, Video, Website, ref

__all__ = [
    "Problem",
    "ProblemError",
    "TimelinePage",
    "UsersPage",
    "check_error",
    "load_json",
    "load_response",
    "parse_timeline",
    "parse_tweet",
    "parse_user",
    "parse_user_response",
    "parse_users_page",
    "problems_of",
    "stop_problem",
    "stop_problem_of",
]


# --------------------------------------------------------------------------------------------
# Bodies and errors (what an error answer means: twitter_crawler.api.problems)


def check_error(status: int, body: bytes) -> None:
    """Raise :class:`ProblemError` for a non-2xx answer (problem JSON, a v1.1-style ``errors``
    body, or a non-JSON body with ``codes=()``) and :class:`MalformedPayload` for a 2xx body that
    is not JSON. The ``errors`` of a 2xx answer never raise here (see the parsers)."""
    load_response(status, body)


def load_response(status: int, body: bytes) -> Any:
    """:func:`check_error` and :func:`load_json` with a single decode: the payload of a 2xx."""
    if not 200 <= status < 300:
        raise error_from_body(status, body)
    return load_json(body)


# --------------------------------------------------------------------------------------------
# Odd objects (field access helpers are in twitter_crawler.api.common)


def _describe(obj: Any) -> str:
    if type(obj) is dict:
        bits = [f"{key}={obj[key]!r}" for key in ("id", "username") if obj.get(key) is not None]
        return f"object ({', '.join(bits)})" if bits else "object"
    return type(obj).__name__


# --------------------------------------------------------------------------------------------
# Users


def parse_user(obj: Any, *, me_id: str | None = None) -> Account:
    """A full :class:`Account` from a v2 user object.

    ``isMe`` is true when ``id == me_id``, else ``None``: never false, which would erase the
    ``isMe`` of an account another crawl imported (its own profile's) when it is met in a list.
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
        isMe=True if me_id is not None and uid == me_id else None,
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

    __slots__ = ("media", "names", "tweets", "users")

    def __init__(self, includes: Any, data: list[Any], restrict: bool) -> None:  # noqa: PLR0912
        inc = _d(includes)
        self.users: dict[str, dict[str, Any]] = {}
        self.names: dict[str, dict[str, Any]] = {}
        self.tweets: dict[str, dict[str, Any]] = {}
        self.media: dict[str, dict[str, Any]] = {}
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
                for raw in _l(_d(t.get("entities")).get("mentions")):
                    m = _d(raw)
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
    for raw in _l(obj.get("referenced_tweets")):
        r = _d(raw)
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
        elif kind in {"video", "animated_gif"}:
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


def _tweet(obj: Any, inc: _Includes, me_id: str | None, c: Collector, skipped: list[str],  # noqa: PLR0912
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
        quoteCount=_int(metrics.get("quote_count")),
        bookmarkCount=_int(metrics.get("bookmark_count")),
        impressionCount=_int(metrics.get("impression_count")),
    )
    c.add(c.tweets, ("Tweet", tid), tweet)
    if author_id is not None:
        c.edge("author", tweet_ref, "Account", author_id)
    for target_id in targets:
        c.edge("reference", tweet_ref, "Tweet", target_id)
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
    restrict = False
    if limit is not None and limit < len(tweets):
        restrict = True
        tweets = tweets[: max(0, limit)]
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
