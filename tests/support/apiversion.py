"""The two API versions a crawl can use (``-s TWITTER_API_VERSION``), as the tests see them.

A test about crawl behaviour runs once per version: ``@pytest.mark.parametrize("api", BOTH)``
gives ids ``v1.1`` and ``v2``. Each :class:`ApiVersion` knows the setting that picks it, the
names the emulator's request log gives its endpoints, their page sizes, and where a request
names the user it is about (v1.1: ``?user_id=``; v2: the path, ``/2/users/:id/tweets``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest


@dataclass(frozen=True)
class ApiVersion:
    version: str
    profile: str  # the account by its handle: the crawl's first request
    timeline: str
    followers: str
    followings: str
    contacts_page: int  # accounts per followers/followings page, as the crawl asks for them
    timeline_page: int  # tweets per timeline page, as the crawl asks for them

    @property
    def settings(self) -> dict[str, str]:
        return {"TWITTER_API_VERSION": self.version}

    @property
    def v2(self) -> bool:
        return self.version == "2"

    def __str__(self) -> str:
        return f"v{self.version}"


V1 = ApiVersion("1.1", "users/show", "statuses/user_timeline", "followers/list", "friends/list",
                contacts_page=200, timeline_page=200)
V2 = ApiVersion("2", "users/by/username", "users/tweets", "users/followers", "users/following",
                contacts_page=1000, timeline_page=100)
BOTH = [pytest.param(V1, id="v1.1"), pytest.param(V2, id="v2")]
TIMELINE_ENDPOINTS = (V1.timeline, V2.timeline)


def request_user(entry: dict[str, Any]) -> str | None:
    """The user id an emulator log entry of a timeline or contacts request is about."""
    if entry.get("api") == "2":
        parts = entry["path"].split("/")  # ['', '2', 'users', ID, 'tweets']
        return parts[3] if len(parts) > 4 and parts[2] == "users" else None
    return entry["query"].get("user_id")
