"""twitter_crawler.api: one contract (TwitterApi), two versions, chosen by TWITTER_API_VERSION; the
answers each version gives where the crawl must not know which one it talks to."""

from __future__ import annotations

from typing import Any

import pytest
from scrapy.settings import Settings

from twitter_crawler.api import ApiV1, ApiV2, TwitterApi, for_version, from_settings
from twitter_crawler.api.pages import IdsPage, TimelinePage, UsersPage
from twitter_crawler.api.problems import ProblemError
from twitter_crawler.exceptions import MalformedPayload, NotInThisVersion, TwitterAPIError


def callback(response: Any, **kwargs: Any) -> None:
    return None


def test_the_version_is_chosen_in_api_from_the_settings() -> None:
    v1 = from_settings(Settings({"TWITTER_API_VERSION": "1.1", "TWITTER_API_URL": "http://h:1/"}))
    v2 = from_settings(Settings({"TWITTER_API_VERSION": "2", "TWITTER_API_URL": "http://h:1/"}))
    assert type(v1) is ApiV1 and type(v2) is ApiV2
    assert isinstance(v1, TwitterApi) and isinstance(v2, TwitterApi)
    assert v1.user("a", callback).url.startswith("http://h:1/1.1/users/show.json?")
    assert v2.user("a", callback).url.startswith("http://h:1/2/users/by/username/a?")
    # A component built without the project's settings gets the defaults.
    default = from_settings(Settings())
    assert type(default) is ApiV2 and default.base == "https://api.twitter.com/2"  # X's only self-serve API
    with pytest.raises(ValueError, match="1.1, 2"):
        for_version("3", "http://h:1")


def test_what_the_middlewares_ask() -> None:
    v1, v2 = ApiV1("http://h"), ApiV2("http://h")
    assert (v1.accepts_bearer_token, v2.accepts_bearer_token) == (False, True)
    assert (v1.profile_endpoint, v2.profile_endpoint) == ("users/show", "users/by/username")
    assert (v1.timeline_endpoint, v2.timeline_endpoint) == ("statuses/user_timeline", "users/tweets")
    assert (v1.lookup_endpoint, v2.lookup_endpoint) == ("users/lookup", None)
    assert "TWITTER_API_VERSION=2" in v1.access_level_message
    assert "may not use API v2" in v2.access_level_message
    # The endpoint named is the one the requests carry (the middlewares match on it).
    walk = {"me": "1", "user_id": "1", "wanted": 10, "fetched": 0}
    for api in (v1, v2):
        assert api.user("a", callback).meta["twitter_endpoint"] == api.profile_endpoint
        assert api.timeline(walk, callback).meta["twitter_endpoint"] == api.timeline_endpoint
    assert v1.lookup(["2"], walk, callback).meta["twitter_endpoint"] == v1.lookup_endpoint


def test_caps_batches_and_strategies() -> None:
    v1, v2 = ApiV1("http://h"), ApiV2("http://h")
    assert v1.timeline_cap == v2.timeline_cap == 3200
    assert v1.lookup_batch == 100
    assert (v1.timelines_only_strategy, v2.timelines_only_strategy) == ("ids", "list")
    assert v1.contacts_strategies(10_000, 500, None, "auto") == {"follower": "ids", "following": "list"}
    assert v1.contacts_strategies(10, 10, None, "ids") == {"follower": "ids", "following": "ids"}
    assert v1.contacts_strategies(10_000, 500, None, "list") == {"follower": "list", "following": "list"}
    for setting in ("auto", "list", "ids"):
        assert v2.contacts_strategies(10_000, 500, None, setting) == {"follower": "list", "following": "list"}


def test_timeline_paging() -> None:
    """v1.1 goes on below the lowest id until an empty page; v2 while there is a next_token."""
    page = TimelinePage([], ["30", "12", "20"])
    assert ApiV1("http://h").next_timeline_position(page) == {"max_id": "11"}
    assert ApiV2("http://h").next_timeline_position(page) is None
    page.next_token = "tok"
    assert ApiV2("http://h").next_timeline_position(page) == {"pagination_token": "tok"}


def test_one_set_of_pages() -> None:
    v1, v2 = ApiV1("http://h"), ApiV2("http://h")
    users = v1.parse_users_page(b'{"users": [], "next_cursor_str": "0"}', me_id="1")
    assert type(users) is UsersPage and users.is_last and users.error is None
    users = v2.parse_users_page(b'{"data": [], "meta": {"next_token": "n"}}', me_id="1")
    assert type(users) is UsersPage and not users.is_last and users.next_cursor == "n"
    protected = v2.parse_users_page(
        b'{"errors": [{"type": "https://api.twitter.com/2/problems/not-authorized-for-resource",'
        b' "title": "Authorization Error", "detail": "no"}]}', me_id="1")
    assert isinstance(protected.error, ProblemError) and protected.error.codes == (179,)
    ids = v1.parse_ids_page(b'{"ids": [1, "2"], "next_cursor_str": "5"}')
    assert type(ids) is IdsPage and ids.ids == ["1", "2"] and not ids.is_last
    walk = {"me": "1", "user_id": "1", "wanted": 2, "fetched": 0}
    assert type(v1.parse_timeline(b"[]", walk)) is TimelinePage
    empty = v2.parse_timeline(b'{"meta": {"result_count": 0}}', walk)
    assert type(empty) is TimelinePage and empty.error is None and empty.next_token is None
    with pytest.raises(NotInThisVersion):
        v2.parse_ids_page(b"{}")
    with pytest.raises(NotInThisVersion):
        v2.parse_lookup(b"[]", me_id="1")


def test_answers_that_are_errors() -> None:
    v1, v2 = ApiV1("http://h"), ApiV2("http://h")
    for api in (v1, v2):
        with pytest.raises(TwitterAPIError) as info:
            api.check_error(401, b'{"errors": [{"code": 89, "message": "Invalid or expired token."}]}')
        assert info.value.codes == (89,)
        with pytest.raises(MalformedPayload):
            api.parse_profile(b"<html>")
    with pytest.raises(ProblemError) as problem:  # v2: an unknown handle is a 200 without data
        v2.parse_profile(b'{"errors": [{"type": "https://api.twitter.com/2/problems/resource-not-found",'
                         b' "resource_type": "user", "title": "Not Found Error", "detail": "no"}]}')
    assert problem.value.codes == (50,)
