"""OAuth 1.0a verification over real HTTP, signed by requests-oauthlib."""

from __future__ import annotations

import time

import requests
from requests_oauthlib import OAuth1

from tests.emulator.conftest import CREDS, Client, errors_of, oauth


def test_signed_get_succeeds(client: Client) -> None:
    r = client.get("users/show", screen_name="alice")
    assert r.status_code == 200
    assert r.json()["screen_name"] == "alice"


def test_signed_post_with_form_body_succeeds(client: Client, world: dict) -> None:
    r = client.post("users/lookup", screen_name="alice," + world["protected"][0], include_entities="true")
    assert r.status_code == 200
    assert {u["screen_name"] for u in r.json()} == {"alice", world["protected"][0]}


def test_tampered_signature_is_401_code_32(client: Client) -> None:
    req = requests.Request("GET", f"{client.url}/1.1/users/show.json", params={"screen_name": "alice"}, auth=oauth())
    prepared = client.session.prepare_request(req)
    header = prepared.headers["Authorization"]
    header = header.decode() if isinstance(header, bytes) else header
    start = header.index('oauth_signature="') + len('oauth_signature="')
    flipped = "A" if header[start] != "A" else "B"
    prepared.headers["Authorization"] = header[:start] + flipped + header[start + 1:]
    r = client.session.send(prepared, timeout=30)
    assert r.status_code == 401
    assert errors_of(r) == [32]
    assert r.headers["x-rate-limit-limit"]


def test_changed_query_after_signing_is_401_code_32(client: Client) -> None:
    req = requests.Request("GET", f"{client.url}/1.1/users/show.json", params={"screen_name": "alice"}, auth=oauth())
    prepared = client.session.prepare_request(req)
    prepared.url = prepared.url.replace("alice", "alicf")
    r = client.session.send(prepared, timeout=30)
    assert (r.status_code, errors_of(r)) == (401, [32])


def test_wrong_consumer_secret_is_401_code_32(client: Client) -> None:
    bad = OAuth1(CREDS["TWITTER_CONSUMER_KEY"], "wrong", CREDS["TWITTER_ACCESS_TOKEN"], CREDS["TWITTER_ACCESS_SECRET"])
    r = client.get("users/show", auth=bad, screen_name="alice")
    assert (r.status_code, errors_of(r)) == (401, [32])


def test_unknown_consumer_key_is_401_code_32(client: Client) -> None:
    bad = OAuth1("nope", CREDS["TWITTER_CONSUMER_SECRET"], CREDS["TWITTER_ACCESS_TOKEN"], CREDS["TWITTER_ACCESS_SECRET"])
    r = client.get("users/show", auth=bad, screen_name="alice")
    assert (r.status_code, errors_of(r)) == (401, [32])


def test_unknown_access_token_is_401_code_89(client: Client) -> None:
    bad = OAuth1(CREDS["TWITTER_CONSUMER_KEY"], CREDS["TWITTER_CONSUMER_SECRET"], "2-unknown", "secret")
    r = client.get("users/show", auth=bad, screen_name="alice")
    assert (r.status_code, errors_of(r)) == (401, [89])


def test_reused_nonce_is_401_code_32(client: Client) -> None:
    fixed = oauth(nonce="thesamenonce1234567890", timestamp=str(int(time.time())))
    first = client.get("users/show", auth=fixed, screen_name="alice")
    assert first.status_code == 200
    again = client.get("users/show", auth=fixed, screen_name="alice")
    assert (again.status_code, errors_of(again)) == (401, [32])


def test_old_timestamp_is_401_code_135(client: Client) -> None:
    r = client.get("users/show", auth=oauth(timestamp=str(int(time.time()) - 1000)), screen_name="alice")
    assert (r.status_code, errors_of(r)) == (401, [135])
    future = client.get("users/show", auth=oauth(timestamp=str(int(time.time()) + 1000)), screen_name="alice")
    assert (future.status_code, errors_of(future)) == (401, [135])


def test_missing_authorization_is_400_code_215(client: Client) -> None:
    r = client.get("users/show", auth=None, screen_name="alice")
    assert (r.status_code, errors_of(r)) == (400, [215])
    assert int(r.headers["x-rate-limit-remaining"]) >= 0


def test_signature_covers_unicode_and_reserved_characters(client: Client) -> None:
    # Parameters with spaces, '+', '&', '~' and non-ASCII must be encoded the RFC 3986 way.
    r = client.post("users/lookup", screen_name="alice,nobody here+&~☃")
    assert r.status_code == 200, r.text
    assert [u["screen_name"] for u in r.json()] == ["alice"]
