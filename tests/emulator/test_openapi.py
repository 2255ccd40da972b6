"""The emulator's v2 answers, and the v2 requests a real crawl sends, against X's own OpenAPI
description of API v2 (``tests/fixtures/xapi/openapi-2.166.json``), validated with openapi-core.

Answers: a crawl-sized set of requests as the crawler makes them (users/by/username,
followers and following pages, timelines with the crawler's fields and expansions, walked to
the end), ``/2/users/me``, ``/2/usage/tweets``, and every kind of error and problem the emulator
answers (unknown, suspended and protected accounts, 400 invalid-request, 401, 402 credits, 403
client-forbidden and unsupported-authentication, 404, 429 rate limit and usage-capped).

Requests: ``scrapy crawl twitter`` over API v2 against an emulator, twice (the second run is
incremental: ``since_id``); every /2 request of the emulator's log (path, query, kind of
authentication) is rebuilt and validated as a request.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from jsonschema_path import SchemaPath
from openapi_core import Config, OpenAPI
from openapi_core.exceptions import OpenAPIError
from openapi_core.testing import MockRequest, MockResponse
from openapi_core.validation.request.validators import V30RequestParametersValidator

from tests.emulator.conftest import oauth, running
from tests.emulator.test_v2_client import BearerAuth, V2Client
from tests.support.crawl import run_crawl
from tests.support.servers import ROOT, ServerProcess
from twitter_crawler.api.v2.requests import EXPANSIONS, MEDIA_FIELDS, TWEET_FIELDS, USER_FIELDS

DESCRIPTION = ROOT / "tests" / "fixtures" / "xapi" / "openapi-2.166.json"
HOST = "https://api.x.com"
WORLD = ("--followers", "1200", "--followings", "25", "--tweets", "260", "--following-tweets", "8",
         "--protected-followings", "1", "--suspended-followings", "1", "--seed", "11")
FULL = {"tweet.fields": TWEET_FIELDS, "expansions": EXPANSIONS, "media.fields": MEDIA_FIELDS,
        "user.fields": USER_FIELDS}
#: Every field v2 accepts for users and tweets that the emulator serves, beyond the crawler's.
ALL_USER_FIELDS = USER_FIELDS + ",most_recent_tweet_id,profile_banner_url,verified_type"
ALL_TWEET_FIELDS = TWEET_FIELDS + ",possibly_sensitive,reply_settings"
ALL_MEDIA_FIELDS = MEDIA_FIELDS + ",public_metrics"
ALL_EXPANSIONS = EXPANSIONS + ",in_reply_to_user_id"


#: X's errors are ``application/problem+json`` (RFC 7807 JSON), a media type openapi-core does
#: not decode by itself.
DESERIALIZERS = {"application/problem+json": json.loads}


class Description:
    """X's description, loaded once (its own validity checked on load), and the two ways of
    validating a request: in full for app-only bearer requests; parameters and path only for
    OAuth 1.0a user context, whose scheme (``UserToken``: HTTP ``OAuth``) openapi-core cannot
    check (it knows the HTTP schemes ``basic`` and ``bearer`` only)."""

    def __init__(self) -> None:
        spec = SchemaPath.from_file_path(str(DESCRIPTION))
        self.full = OpenAPI(spec, config=Config(extra_media_type_deserializers=DESERIALIZERS))
        self.params = OpenAPI(spec, config=Config(
            spec_validator_cls=None, request_validator_cls=V30RequestParametersValidator,
            extra_media_type_deserializers=DESERIALIZERS))

    def validate_request(self, request: MockRequest) -> None:
        if request.headers.get("Authorization", "").startswith("OAuth "):
            self.params.validate_request(request)
        else:
            self.full.validate_request(request)

    def validate_response(self, request: MockRequest, response: MockResponse) -> None:
        self.full.validate_response(request, response)


@pytest.fixture(scope="module")
def openapi() -> Description:
    return Description()


def auth_header(kind: str | None) -> dict[str, str]:
    """A header of the kind of authentication the description's security schemes name."""
    if kind == "bearer":
        return {"Authorization": "Bearer token"}
    if kind == "oauth1":
        return {"Authorization": 'OAuth oauth_consumer_key="k"'}
    return {}


def as_request(path: str, query: dict[str, str], auth: str | None) -> MockRequest:
    return MockRequest(HOST, "get", path, args=query, headers=auth_header(auth))


class Checker:
    """Validates answers (and, when asked, their requests) and keeps what does not conform."""

    def __init__(self, openapi: Description, url: str) -> None:
        self.openapi = openapi
        self.url = url
        self.failures: list[str] = []
        self.checked: list[tuple[str, int]] = []

    def get(self, path: str, auth: Any = None, *, request_conforms: bool = True, **params: Any
            ) -> requests.Response:
        kind = "oauth1" if auth is not None and not isinstance(auth, BearerAuth) else "bearer"
        r = requests.get(f"{self.url}/2/{path}", params=params, auth=auth or BearerAuth(), timeout=60)
        request = as_request(f"/2/{path}", {k: str(v) for k, v in params.items()}, kind)
        if request_conforms:
            self.request(request)
        content_type = r.headers["content-type"].split(";")[0]
        response = MockResponse(r.content, status_code=r.status_code, content_type=content_type)
        try:
            self.openapi.validate_response(request, response)
        except OpenAPIError as err:  # every finding of openapi-core is one
            self.failures.append(f"answer {r.status_code} GET /2/{path} {params}: {describe(err)}")
        self.checked.append((path, r.status_code))
        return r

    def request(self, request: MockRequest) -> None:
        try:
            self.openapi.validate_request(request)
        except OpenAPIError as err:
            self.failures.append(f"request GET {request.path} {dict(request.args)}: {describe(err)}")


def describe(err: OpenAPIError) -> str:
    """The schema errors under openapi-core's exception (it wraps them)."""
    parts = [str(err)[:300]]
    cause = err.__cause__
    while cause is not None:
        for e in getattr(cause, "schema_errors", ()):
            parts.append(f"{list(e.absolute_path)}: {e.message[:200]}")
        cause = cause.__cause__
    return " | ".join(parts)


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    with running(*WORLD, "--quotas", "off") as s:
        yield s


def walk(check: Checker, path: str, auth: Any = None, **params: Any) -> list[dict[str, Any]]:
    """Every page of a pagination_token walk."""
    pages: list[dict[str, Any]] = []
    token = None
    while True:
        extra = {"pagination_token": token} if token else {}
        r = check.get(path, auth, **params, **extra)
        assert r.status_code == 200, r.text
        pages.append(r.json())
        token = r.json()["meta"].get("next_token")
        if not token:
            return pages


def test_every_answer_of_a_crawl_sized_walk_conforms(openapi: Description, server: ServerProcess) -> None:
    world = server.get_json("/_emulator/world")
    me = world["user_id"]
    check = Checker(openapi, server.url)
    for auth in (None, oauth()):
        check.get("users/by/username/alice", auth, **{"user.fields": USER_FIELDS})
    check.get("users/by/username/alice", **{"user.fields": ALL_USER_FIELDS})
    followers = walk(check, f"users/{me}/followers", max_results=1000, **{"user.fields": USER_FIELDS})
    assert len(followers) == 2
    followings = walk(check, f"users/{me}/following", oauth(), max_results=1000,
                      **{"user.fields": USER_FIELDS})
    pages = walk(check, f"users/{me}/tweets", oauth(), max_results=100, **FULL)
    assert len(pages) == 3
    newest = pages[0]["meta"]["newest_id"]
    check.get(f"users/{me}/tweets", max_results=100, since_id=newest, **FULL)  # empty: meta only
    for user in followings[0]["data"]:
        if user["username"] not in world["protected"]:
            walk(check, f"users/{user['id']}/tweets", max_results=5, **FULL)
    walk(check, f"users/{me}/tweets", max_results=100, exclude="replies,retweets",
         **{"tweet.fields": ALL_TWEET_FIELDS, "expansions": ALL_EXPANSIONS,
            "media.fields": ALL_MEDIA_FIELDS, "user.fields": ALL_USER_FIELDS})
    check.get("users/me", oauth(), **{"user.fields": ALL_USER_FIELDS})
    check.get("usage/tweets")
    check.get("usage/tweets", days=90, **{"usage.fields": "cap_reset_day,daily_client_app_usage,"
                                          "daily_project_usage,project_cap,project_id,project_usage"})
    assert not check.failures, "\n".join(check.failures)
    assert len(check.checked) > 20


def test_every_error_and_problem_answer_conforms(openapi: Description, server: ServerProcess) -> None:
    world = server.get_json("/_emulator/world")
    me = world["user_id"]
    check = Checker(openapi, server.url)
    with V2Client(server.url) as v2:
        protected = v2.get(f"users/by/username/{world['protected'][0]}").json()["data"]["id"]
    statuses = [
        check.get("users/by/username/nobody_here").status_code,  # 200 resource-not-found
        check.get(f"users/by/username/{world['suspended'][0]}").status_code,  # 200, suspended
        check.get(f"users/{protected}/tweets", max_results=5).status_code,  # 200 not-authorized
        check.get(f"users/{protected}/followers").status_code,
        check.get("users/1/tweets").status_code,  # 200, no such id
        # 400 invalid-request (the requests do not conform: that is the point)
        check.get(f"users/{me}/tweets", request_conforms=False, max_results=500).status_code,
        check.get(f"users/{me}/tweets", request_conforms=False, **{"tweet.fields": "nope"}).status_code,
        check.get(f"users/{me}/followers", request_conforms=False, pagination_token="bad").status_code,
        # 403 unsupported-authentication
        check.get("users/me", request_conforms=False).status_code,
        check.get("usage/tweets", oauth(), request_conforms=False).status_code,
    ]
    assert statuses == [200, 200, 200, 200, 200, 400, 400, 400, 403, 403]
    # 401 and 404 (no operation of the description for an unknown path: the body alone)
    r = requests.get(f"{server.url}/2/users/by/username/alice", timeout=30)
    r404 = requests.get(f"{server.url}/2/tweets/search/nothing", auth=BearerAuth(), timeout=30)
    for answer, status in ((r, 401), (r404, 404)):
        assert answer.status_code == status
        validate_problem(openapi, answer)
    assert not check.failures, "\n".join(check.failures)


def validate_problem(openapi: Description, answer: requests.Response) -> None:
    """A problem answer against the description's ``Problem`` schema (via an operation whose
    ``default`` answer is a problem)."""
    request = as_request("/2/users/by/username/alice", {}, "bearer")
    content_type = answer.headers["content-type"].split(";")[0]
    assert content_type == "application/problem+json"
    openapi.validate_response(request, MockResponse(answer.content, status_code=answer.status_code,
                                                    content_type=content_type))


def test_refusals_conform_rate_limit_usage_cap_credits_client_forbidden(openapi: Description) -> None:
    small = ("--followers", "5", "--followings", "3", "--tweets", "30", "--seed", "2")
    with running(*small, "--quota", "users/by/username=1", "--usage-cap", "10", "--credits", "0.01") as s:
        me = s.get_json("/_emulator/world")["user_id"]
        check = Checker(openapi, s.url)
        assert check.get("users/by/username/alice").status_code == 200  # $0.01: the balance
        assert check.get("users/by/username/alice").status_code == 429  # the rate limit
        assert check.get(f"users/{me}/tweets", max_results=10).status_code == 402  # credits
        requests.post(f"{s.url}/_emulator/usage", json={"credits": None}, timeout=30)
        assert check.get(f"users/{me}/tweets", max_results=10).status_code == 200
        capped = check.get(f"users/{me}/tweets", max_results=10)
        assert capped.status_code == 429 and capped.json()["type"].endswith("/usage-capped")
        assert not check.failures, "\n".join(check.failures)
    with running(*small, "--v2-client-forbidden") as s:
        check = Checker(openapi, s.url)
        assert check.get("users/by/username/alice").status_code == 403
        assert not check.failures, "\n".join(check.failures)


def test_every_request_of_a_real_crawl_conforms(openapi: Description, tmp_path: Path) -> None:
    with running(*WORLD) as server:
        settings = {"TWITTER_API_VERSION": "2", "POD_URL": f"sqlite:///{tmp_path / 'pod.sqlite3'}",
                    "TWITTER_MEDIA": ""}
        for _ in range(2):  # the second run is incremental (since_id)
            result = run_crawl(server.url, "alice", settings=settings)
            assert result.returncode == 0, result.log[-3000:]
        log = server.get_json("/_emulator/log")["requests"]
    sent = [e for e in log if e["api"] == "2"]
    # users/me: whose token it is (Owned Reads), asked once per run by the cost meter
    assert {e["endpoint"] for e in sent} == {"users/by/username", "users/followers", "users/following",
                                             "users/tweets", "users/me"}
    assert any("since_id" in e["query"] for e in sent)
    check = Checker(openapi, "")
    for e in sent:
        check.request(as_request(e["path"], e["query"], e["auth"]))
    assert not check.failures, "\n".join(check.failures[:20])
    assert json.dumps(sent)  # the log is what was validated
