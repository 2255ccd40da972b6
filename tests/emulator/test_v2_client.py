"""/2 authentication over real HTTP: app-only bearer tokens and OAuth 1.0a user context.

Also the small v2 client the other ``test_v2_*`` modules use.
"""

from __future__ import annotations

import time
from typing import Any

import requests
from requests_oauthlib import OAuth1
from scrapy import Request

from tests.emulator.conftest import CREDS, oauth, running
from tests.support.servers import ServerProcess
from twitter_emulator.v2 import DEMO_BEARER_TOKEN

UNAUTHORIZED = {"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"}


class BearerAuth(requests.auth.AuthBase):
    def __init__(self, token: str = DEMO_BEARER_TOKEN) -> None:
        self.token = token

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        r.headers["Authorization"] = f"Bearer {self.token}"
        return r


class V2Client:
    """Calls of ``/2/...`` against one emulator, with a bearer token (default) or OAuth 1.0a."""

    def __init__(self, url: str, auth: Any = None) -> None:
        self.url = url
        self.auth = auth if auth is not None else BearerAuth()
        self.session = requests.Session()

    def get(self, path: str, auth: Any = "default", **params: Any) -> requests.Response:
        return self.session.get(f"{self.url}/2/{path}", params=params,
                                auth=self.auth if auth == "default" else auth, timeout=60)

    def fetch(self, request: Request, auth: Any = "default") -> requests.Response:
        """The answer to a request built by ``ApiV2`` (its exact URL)."""
        assert request.method == "GET"
        return self.session.get(request.url, auth=self.auth if auth == "default" else auth, timeout=60)

    def control(self, path: str, **params: Any) -> Any:
        r = self.session.get(f"{self.url}/_emulator/{path}", params=params, timeout=120)
        r.raise_for_status()
        return r.json()

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> V2Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def test_bearer_token_and_oauth1_both_work(emulator: ServerProcess) -> None:
    for auth in (BearerAuth(), oauth()):
        with V2Client(emulator.url, auth) as client:
            r = client.get("users/by/username/alice", **{"user.fields": "public_metrics"})
        assert r.status_code == 200, r.text
        assert r.json()["data"]["username"] == "alice"
        assert r.json()["data"]["public_metrics"]["followers_count"] == 450
        assert r.headers["content-type"].startswith("application/json")


def test_auth_failures_are_401_unauthorized(emulator: ServerProcess) -> None:
    client = V2Client(emulator.url)
    bad_oauth = OAuth1(CREDS["TWITTER_CONSUMER_KEY"], "wrong", CREDS["TWITTER_ACCESS_TOKEN"],
                       CREDS["TWITTER_ACCESS_SECRET"])
    unknown_token = OAuth1(CREDS["TWITTER_CONSUMER_KEY"], CREDS["TWITTER_CONSUMER_SECRET"], "2-x", "y")
    stale = oauth(timestamp=str(int(time.time()) - 1000))
    for auth in (None, BearerAuth("not-the-token"), BearerAuth(""), bad_oauth, unknown_token, stale):
        r = client.get("users/by/username/alice", auth=auth)
        assert r.status_code == 401, auth
        assert r.json() == UNAUTHORIZED
        assert r.headers["content-type"] == "application/problem+json"
        assert "x-rate-limit-limit" in r.headers
    client.close()


def test_reused_nonce_is_refused(emulator: ServerProcess) -> None:
    client = V2Client(emulator.url, oauth(nonce="v2sameNonce000000001", timestamp=str(int(time.time()))))
    assert client.get("users/by/username/alice").status_code == 200
    again = client.get("users/by/username/alice")
    assert (again.status_code, again.json()) == (401, UNAUTHORIZED)
    client.close()


def test_log_names_the_auth_context_without_the_bearer_token(emulator: ServerProcess) -> None:
    client = V2Client(emulator.url)
    last = client.control("log", since=10**9)["last_seq"]
    client.get("users/by/username/alice", **{"user.fields": "created_at"})
    with V2Client(emulator.url, oauth()) as signer:
        signer.get("users/by/username/alice")
    client.get("users/by/username/alice", auth=None)
    bearer, signed, anonymous = client.control("log", since=last)["requests"]
    assert bearer["api"] == "2" and bearer["endpoint"] == "users/by/username"
    assert bearer["path"] == "/2/users/by/username/alice" and bearer["query"] == {"user.fields": "created_at"}
    assert bearer["auth"] == "bearer" and bearer["token"].startswith("app:")
    assert DEMO_BEARER_TOKEN not in str(bearer)
    assert signed["auth"] == "oauth1" and signed["token"] == CREDS["TWITTER_ACCESS_TOKEN"]
    assert not any(k.startswith("oauth_") for k in signed["query"])
    assert (anonymous["status"], anonymous["auth"], anonymous["token"]) == (401, None, None)
    assert all(e["status"] == 200 for e in (bearer, signed))
    client.close()


def test_other_bearer_tokens_and_v1_paths_stay_apart() -> None:
    with running("--followers", "3", "--followings", "2", "--bearer-token", "tok-A",
                 "--extra-bearer-token", "tok-B") as server:
        for token in ("tok-A", "tok-B"):
            with V2Client(server.url, BearerAuth(token)) as client:
                assert client.get("users/by/username/alice").status_code == 200
        with V2Client(server.url) as client:
            assert client.get("users/by/username/alice").status_code == 401  # the default is replaced
        # v1.1 knows OAuth 1.0a only, as before: a bearer token there is 400 code 215
        r = requests.get(f"{server.url}/1.1/users/show.json", params={"screen_name": "alice"},
                         auth=BearerAuth("tok-A"), timeout=30)
        assert r.status_code == 400 and r.json()["errors"][0]["code"] == 215
