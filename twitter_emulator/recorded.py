"""The recorded dataset: real v1.1 payloads (``recordings/twitter-v1.1``) served as an API.

The recordings come from several accounts, so this mode serves:

* **@jack**, the crawlable handle: its profile and timeline are jack's recorded ones (63 + 6
  tweets, merged), its followers are the recorded followers/list chain (335 users, 2 pages),
  its followings the recorded friends/list chain (819 users, 5 pages). The pages are served as
  recorded (same cursors, whatever ``count`` asks); followers/ids and friends/ids are derived from
  the same lists so that ids + users/lookup import the same accounts. jack's
  ``followers_count``/``friends_count`` are set to the sizes of those lists so progress adds up.
* every recorded user object through users/show and users/lookup (kesuke, the 1,154 listed
  users, tweet authors), each with its recorded ``status`` when it has one;
* a followed account's timeline is its recorded ``status`` (the only tweet recorded for it),
  with its user attached; @dewitt's timeline is its 20 recorded tweets; a protected account
  answers 401;
* the recorded chains under their own handles too: followers/list of @himawari8bot,
  friends/list of @codebear, followers/ids of @GirlsMakeGames, friends/ids of @EricHolthaus.

Tweets are recorded in compat mode (``text``); they are served as recorded in both tweet modes.
"""

from __future__ import annotations

import copy
import json
import logging
from pathlib import Path
from typing import Any

from twitter_emulator.api import (
    ApiError,
    Params,
    cursor_fields,
    flag,
    id_param,
    int_param,
    not_authorized,
    twitter_error,
    user_not_found,
)

logger = logging.getLogger(__name__)

RECORDINGS = Path(__file__).parent / "recordings" / "twitter-v1.1"
MAIN_HANDLE = "jack"
#: Synthetic cursors of the derived ids pages (position + base), unlike the recorded ones.
IDS_CURSOR_BASE = 1_460_000_000_000_000_000


def _load(name: str) -> Any:
    return json.loads((RECORDINGS / f"pytwitter__{name}.body.json").read_text(encoding="utf-8"))


def _strip(user: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in user.items() if k != "status"}


class RecordedApi:
    """Endpoint logic over the recorded payloads (read-only; everything loaded at start)."""

    dataset = "recorded"

    def __init__(self) -> None:
        self.users: dict[str, dict[str, Any]] = {}  # id_str -> user object without status
        self.statuses: dict[str, dict[str, Any]] = {}  # id_str -> recorded status (no user)
        self.by_name: dict[str, str] = {}
        self.followers_pages = [_load(f"get_followers_{i}") for i in range(2)]
        self.friends_pages = [_load(f"get_friends_{i}") for i in range(5)]
        self.follower_ids_pages = [_load(f"get_follower_ids_{i}") for i in range(2)]
        self.friend_ids_pages = [_load(f"get_friend_ids_{i}") for i in range(2)]
        jack_tweets = {t["id_str"]: t for name in ("get_user_timeline_count", "get_user_timeline_sincemax")
                       for t in _load(name)}
        self.timelines: dict[str, list[dict[str, Any]]] = {
            "12": sorted(jack_tweets.values(), key=lambda t: int(t["id_str"]), reverse=True),
        }
        dewitt = _load("get_user_timeline")
        self.timelines[dewitt[0]["user"]["id_str"]] = sorted(dewitt, key=lambda t: int(t["id_str"]), reverse=True)
        for user in [_load("get_user"), *_load("users_lookup")]:
            self._add_user(user)
        for page in self.followers_pages + self.friends_pages:
            for user in page["users"]:
                self._add_user(user)
        for tweets in self.timelines.values():
            for t in tweets:
                for obj in (t, t.get("retweeted_status"), t.get("quoted_status"),
                            (t.get("retweeted_status") or {}).get("quoted_status")):
                    if obj and isinstance(obj.get("user"), dict):
                        self._add_user(obj["user"])
        self.followers = [u["id_str"] for p in self.followers_pages for u in p["users"]]
        self.friends = [u["id_str"] for p in self.friends_pages for u in p["users"]]
        self.main_id = self.by_name[MAIN_HANDLE]
        self._patch_main_counts()
        # The chains served under each handle: (kind, handle) -> recorded pages.
        self.list_chains = {
            ("followers", MAIN_HANDLE): self.followers_pages,
            ("friends", MAIN_HANDLE): self.friends_pages,
            ("followers", "himawari8bot"): self.followers_pages,
            ("friends", "codebear"): self.friends_pages,
        }
        self.ids_chains = {
            ("followers", "girlsmakegames"): self.follower_ids_pages,
            ("friends", "ericholthaus"): self.friend_ids_pages,
        }
        logger.info("recorded dataset: %d users, crawlable handle @%s", len(self.users), MAIN_HANDLE)

    def _add_user(self, user: dict[str, Any]) -> None:
        uid = user["id_str"]
        if uid not in self.users:
            self.users[uid] = _strip(user)
            self.by_name[user["screen_name"].lower()] = uid
        if isinstance(user.get("status"), dict) and uid not in self.statuses:
            self.statuses[uid] = user["status"]

    def _patch_main_counts(self) -> None:
        """jack's counts = the lists served for it, everywhere its user object appears."""
        counts = {"followers_count": len(self.followers), "friends_count": len(self.friends)}
        self.users[self.main_id].update(counts)
        patched = []
        for t in self.timelines[self.main_id]:
            t = copy.deepcopy(t)
            if t["user"]["id_str"] == self.main_id:
                t["user"].update(counts)
            patched.append(t)
        self.timelines[self.main_id] = patched

    # -- helpers ------------------------------------------------------------------------------

    def resolve(self, params: Params, *, default_me: bool) -> str:
        if params.get("user_id"):
            uid = params["user_id"].strip()
        elif params.get("screen_name"):
            uid = self.by_name.get(params["screen_name"].strip().lstrip("@").lower(), "")
        elif default_me:
            uid = self.main_id
        else:
            raise twitter_error(400, 38, "screen_name or user_id parameter is missing.")
        if uid not in self.users:
            raise user_not_found()
        return uid

    def _user(self, uid: str, *, status: bool, entities: bool = True) -> dict[str, Any]:
        user = dict(self.users[uid])
        if not entities:
            user.pop("entities", None)
        if status and not user.get("protected"):
            st = self._latest(uid)
            if st is not None:
                user["status"] = st
        return user

    def _latest(self, uid: str) -> dict[str, Any] | None:
        if uid in self.timelines:
            return {k: v for k, v in self.timelines[uid][0].items() if k != "user"}
        return self.statuses.get(uid)

    def _name(self, uid: str) -> str:
        return self.users[uid]["screen_name"].lower()

    # -- endpoints ----------------------------------------------------------------------------

    def users_show(self, params: Params) -> Any:
        return self._user(self.resolve(params, default_me=False), status=True,
                          entities=flag(params, "include_entities", True))

    def users_lookup(self, params: Params) -> Any:
        ids = [x.strip() for x in params.get("user_id", "").split(",") if x.strip()]
        names = [x.strip().lower() for x in params.get("screen_name", "").split(",") if x.strip()]
        if len(ids) + len(names) > 100:
            raise twitter_error(403, 18, "Too many terms specified in query.")
        found: list[str] = []
        for uid in ids + [self.by_name.get(n, "") for n in names]:
            if uid in self.users and uid not in found:
                found.append(uid)
        if not found:
            raise twitter_error(404, 17, "No user matches for specified terms.")
        entities = flag(params, "include_entities", True)
        return [self._user(uid, status=True, entities=entities) for uid in found]

    def _chain(self, chains: dict, which: str, params: Params) -> tuple[list | None, str]:
        """The recorded chain for the named account, and its id (recorded chains exist for some
        handles whose user object was never recorded)."""
        name = params.get("screen_name", "").strip().lstrip("@").lower()
        if not params.get("user_id") and (which, name) in chains:
            return chains[(which, name)], self.by_name.get(name, "")
        uid = self.resolve(params, default_me=True)
        return chains.get((which, self._name(uid))), uid

    def contacts_list(self, which: str, params: Params) -> Any:
        pages, _uid = self._chain(self.list_chains, which, params)
        if pages is None:
            return {"users": [], **cursor_fields(0, 0)}
        page = self._recorded_page(pages, params.get("cursor"))
        skip_status = flag(params, "skip_status", False)
        entities = flag(params, "include_user_entities", True)
        users = []
        for u in page.get("users", []):
            u = dict(u)
            if skip_status:
                u.pop("status", None)
            if not entities:
                u.pop("entities", None)
            users.append(u)
        return {"users": users, **{k: page[k] for k in ("next_cursor", "next_cursor_str",
                                                         "previous_cursor", "previous_cursor_str")}}

    @staticmethod
    def _recorded_page(pages: list[dict[str, Any]], cursor: str | None) -> dict[str, Any]:
        """The recorded page a cursor names: ``-1`` is the first, then each ``next_cursor``."""
        cursor = (cursor or "-1").strip()
        if cursor == "-1":
            return pages[0]
        for prev, page in zip(pages, pages[1:], strict=False):
            if prev["next_cursor_str"] == cursor:
                return page
        return {"users": [], "ids": [], **cursor_fields(0, 0)}

    def contacts_ids(self, which: str, params: Params) -> Any:
        stringify = flag(params, "stringify_ids", False)
        pages, uid = self._chain(self.ids_chains, which, params)
        if pages is not None:
            page = dict(self._recorded_page(pages, params.get("cursor")))
            page["ids"] = [str(i) if stringify else int(i) for i in page.get("ids", [])]
            return page
        if uid != self.main_id:
            return {"ids": [], **cursor_fields(0, 0)}
        members = self.followers if which == "followers" else self.friends
        count = int_param(params, "count", 5000, 1, 5000)
        try:
            cursor = int(params.get("cursor") or -1)
        except ValueError:
            cursor = 0
        start = 0 if cursor == -1 else cursor - IDS_CURSOR_BASE
        if cursor in (0,) or not 0 <= start < len(members):
            return {"ids": [], **cursor_fields(0, 0)}
        chunk = members[start:start + count]
        nxt = IDS_CURSOR_BASE + start + count if start + count < len(members) else 0
        prev = -(IDS_CURSOR_BASE + start) if start else 0
        ids: list[Any] = [i if stringify else int(i) for i in chunk]
        return {"ids": ids, **cursor_fields(nxt, prev)}

    def user_timeline(self, params: Params) -> Any:
        uid = self.resolve(params, default_me=True)
        user = self.users[uid]
        if user.get("protected") and uid != self.main_id:
            raise not_authorized()
        tweets = self.timelines.get(uid)
        if tweets is None:
            st = self.statuses.get(uid)
            tweets = [{**st, "user": user}] if st else []
        count = int_param(params, "count", 20, 1, 200)
        since_id = id_param(params, "since_id")
        max_id = id_param(params, "max_id")
        page = [t for t in tweets
                if (since_id is None or int(t["id_str"]) > since_id)
                and (max_id is None or int(t["id_str"]) <= max_id)][:count]
        if not flag(params, "include_rts", True):
            page = [t for t in page if "retweeted_status" not in t]
        if flag(params, "exclude_replies", False):
            page = [t for t in page if not t.get("in_reply_to_status_id_str")]
        if flag(params, "trim_user", False):
            page = [{**t, "user": {"id": t["user"]["id"], "id_str": t["user"]["id_str"]}} for t in page]
        return page

    def summary(self) -> dict[str, Any]:
        return {
            "dataset": "recorded",
            "handle": MAIN_HANDLE,
            "user_id": self.main_id,
            "counts": {
                "followers": len(self.followers),
                "followings": len(self.friends),
                "tweets": len(self.timelines[self.main_id]),
                "accounts": len(self.users),
            },
            "protected": sorted(self.users[u]["screen_name"] for u in self.friends if self.users[u].get("protected")),
            "suspended": [],
            "missing": ["nobody_here"],
            "recorded_chains": {
                "followers/list": ["jack", "himawari8bot"],
                "friends/list": ["jack", "codebear"],
                "followers/ids": ["jack", "GirlsMakeGames"],
                "friends/ids": ["jack", "EricHolthaus"],
                "statuses/user_timeline": ["jack", "dewitt", "(any listed user: its recorded status)"],
            },
        }


__all__ = ["ApiError", "RecordedApi", "MAIN_HANDLE"]
