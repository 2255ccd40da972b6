"""The v1.1 endpoints over the synthetic world: parameters, paging and Twitter's error answers.

HTTP plumbing (auth, quotas, faults, the request log) lives in ``server``; this module only
knows what an endpoint returns for given parameters. Both datasets (this one and ``recorded``)
offer the same methods, so the server does not care which one it serves.
"""

from __future__ import annotations

import logging
from itertools import islice
from typing import Any

from twitter_emulator.graph import ContactList
from twitter_emulator.serialize import Renderer
from twitter_emulator.world import ME, World

logger = logging.getLogger(__name__)

Params = dict[str, str]

#: Cursors look like Twitter's (above 2**53, so clients must keep the ``_str`` forms); the part
#: above this base is the stable sequence number of the entry the page starts at.
CURSOR_BASE = 1_470_000_000_000_000_000
LOOKUP_MAX = 100
TIMELINE_REQUEST = "/1.1/statuses/user_timeline.json"


class ApiError(Exception):
    """An error answer: HTTP status and JSON body."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(f"{status} {body}")
        self.status = status
        self.body = body


def twitter_error(status: int, code: int, message: str) -> ApiError:
    return ApiError(status, {"errors": [{"code": code, "message": message}]})


def user_not_found() -> ApiError:
    return twitter_error(404, 50, "User not found.")


def suspended() -> ApiError:
    return twitter_error(403, 63, "User has been suspended.")


def not_authorized(request_path: str = TIMELINE_REQUEST) -> ApiError:
    """A protected timeline: a different body shape, without ``errors`` (TWITTER_API.md §1.4)."""
    return ApiError(401, {"request": request_path, "error": "Not authorized."})


def flag(params: Params, name: str, default: bool) -> bool:
    """Twitter's booleans: ``true``/``t``/``1`` and ``false``/``f``/``0`` (case-insensitive)."""
    value = params.get(name)
    if value is None or value == "":
        return default
    value = value.lower()
    if value in ("true", "t", "1", "yes"):
        return True
    if value in ("false", "f", "0", "no"):
        return False
    return default


def int_param(params: Params, name: str, default: int, lo: int, hi: int) -> int:
    try:
        value = int(params[name])
    except (KeyError, ValueError):
        return default
    return max(lo, min(hi, value))


def id_param(params: Params, name: str) -> int | None:
    value = params.get(name)
    if value is None or value == "":
        return None
    try:
        n = int(value)
    except ValueError:
        raise twitter_error(400, 44, f"{name} parameter is invalid.") from None
    if n < 0:
        raise twitter_error(400, 44, f"{name} parameter is invalid.")
    return n


def cursor_page(contacts: ContactList, cursor_raw: str | None, count: int) -> tuple[list[int], int, int]:
    """(member slots of the page, next_cursor, previous_cursor), Twitter-style: ``-1`` is the
    first page, ``0`` ends the chain, negative cursors page backwards."""
    try:
        cursor = int(cursor_raw) if cursor_raw not in (None, "") else -1
    except ValueError:
        cursor = 0  # an unreadable cursor reads as the end of the list
    top = contacts.max_seq
    if cursor == -1:
        seqs = [s for s, _ in islice(contacts.down(top), count)]
    elif cursor > 0:
        start = cursor - CURSOR_BASE
        if not 1 <= start <= top:
            return [], 0, 0
        seqs = [s for s, _ in islice(contacts.down(start), count)]
    elif cursor < -1:
        start = -cursor - CURSOR_BASE
        if not 0 <= start <= top:
            return [], 0, 0
        seqs = contacts.up(start + 1, count)[::-1]
    else:
        return [], 0, 0
    if not seqs:
        return [], 0, 0
    below = contacts.next_below(seqs[-1])
    nxt = CURSOR_BASE + below if below else 0
    prev = -(CURSOR_BASE + seqs[0]) if contacts.has_above(seqs[0]) else 0
    return [contacts.member(s) for s in seqs], nxt, prev


def cursor_fields(nxt: int, prev: int) -> dict[str, Any]:
    return {"next_cursor": nxt, "next_cursor_str": str(nxt), "previous_cursor": prev, "previous_cursor_str": str(prev)}


class SyntheticApi:
    """Endpoint logic over a :class:`World`."""

    dataset = "synthetic"

    def __init__(self, world: World) -> None:
        self.world = world

    # -- helpers ------------------------------------------------------------------------------

    def resolve(self, params: Params, *, default_me: bool) -> int:
        """The account named by ``user_id`` or ``screen_name``; the authenticating user if none."""
        w = self.world
        if params.get("user_id"):
            try:
                slot = w.slot_by_id(int(params["user_id"]))
            except ValueError:
                slot = None
        elif params.get("screen_name"):
            slot = w.slot_by_name(params["screen_name"])
        elif default_me:
            slot = ME
        else:
            raise twitter_error(400, 38, "screen_name or user_id parameter is missing.")
        if slot is None:
            raise user_not_found()
        if w.state(slot) == "suspended":
            raise suspended()
        return slot

    def renderer(self, params: Params, *, entities_param: str = "include_entities") -> Renderer:
        return Renderer(
            self.world,
            extended=params.get("tweet_mode") == "extended",
            entities=flag(params, entities_param, True),
            trim_user=flag(params, "trim_user", False),
        )

    # -- endpoints ----------------------------------------------------------------------------

    def users_show(self, params: Params) -> Any:
        slot = self.resolve(params, default_me=False)
        return self.renderer(params).user(slot, status=True)

    def users_lookup(self, params: Params) -> Any:
        w = self.world
        ids = [x for x in params.get("user_id", "").split(",") if x.strip()]
        names = [x for x in params.get("screen_name", "").split(",") if x.strip()]
        if len(ids) + len(names) > LOOKUP_MAX:
            raise twitter_error(403, 18, "Too many terms specified in query.")
        slots: list[int] = []
        for x in ids:
            try:
                slots.append(w.slot_by_id(int(x.strip())))  # type: ignore[arg-type]
            except ValueError:
                continue
        slots += [w.slot_by_name(x.strip()) for x in names]  # type: ignore[misc]
        found: list[int] = []
        seen: set[int] = set()
        for s in slots:
            # Unknown and suspended accounts are silently left out.
            if s is not None and s not in seen and w.state(s) != "suspended":
                seen.add(s)
                found.append(s)
        if not found:
            raise twitter_error(404, 17, "No user matches for specified terms.")
        r = self.renderer(params)
        return [r.user(s, status=True) for s in found]

    def contacts_list(self, which: str, params: Params) -> Any:
        """followers/list (``which="followers"``) and friends/list (``"friends"``)."""
        w = self.world
        slot = self.resolve(params, default_me=True)
        count = int_param(params, "count", 20, 1, 200)
        members, nxt, prev = cursor_page(w.contacts(slot, which), params.get("cursor"), count)
        r = self.renderer(params, entities_param="include_user_entities")
        with_status = not flag(params, "skip_status", False)
        # Suspended accounts are filtered after the page is cut, as Twitter does: a page may
        # hold fewer than ``count`` users.
        users = [r.user(s, status=with_status) for s in members if w.state(s) != "suspended"]
        return {"users": users, **cursor_fields(nxt, prev)}

    def contacts_ids(self, which: str, params: Params) -> Any:
        """followers/ids and friends/ids: suspended accounts' ids may appear, as on Twitter."""
        w = self.world
        slot = self.resolve(params, default_me=True)
        count = int_param(params, "count", 5000, 1, 5000)
        members, nxt, prev = cursor_page(w.contacts(slot, which), params.get("cursor"), count)
        ids: list[Any] = [w.user_id(s) for s in members]
        if flag(params, "stringify_ids", False):
            ids = [str(i) for i in ids]
        return {"ids": ids, **cursor_fields(nxt, prev)}

    def user_timeline(self, params: Params) -> Any:
        w = self.world
        slot = self.resolve(params, default_me=True)
        if w.state(slot) == "protected" and slot != ME:
            raise not_authorized()
        count = int_param(params, "count", 20, 1, 200)
        since_id = id_param(params, "since_id")
        max_id = id_param(params, "max_id")
        # include_rts=false and exclude_replies filter *after* the count is applied (documented).
        tweets = [w.tweet(slot, n) for n in w.timeline_indices(slot, count, since_id, max_id)]
        if not flag(params, "include_rts", True):
            tweets = [t for t in tweets if t.kind != "retweet"]
        if flag(params, "exclude_replies", False):
            tweets = [t for t in tweets if t.kind != "reply"]
        r = self.renderer(params)
        return [r.tweet(t) for t in tweets]

    def summary(self) -> dict[str, Any]:
        return self.world.summary()
