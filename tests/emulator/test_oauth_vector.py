"""The OAuth verifier's own signature code against Twitter's documented test vector."""

from __future__ import annotations

import pytest

from twitter_emulator.oauth import (
    AuthError,
    Verifier,
    base_string,
    base_url,
    parse_authorization,
    pct,
    signature,
)

PARAMS = [
    ("status", "Hello Ladies + Gentlemen, a signed OAuth request!"),
    ("include_entities", "true"),
    ("oauth_consumer_key", "xvz1evFS4wEEPTGEFPHBog"),
    ("oauth_nonce", "kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg"),
    ("oauth_signature_method", "HMAC-SHA1"),
    ("oauth_timestamp", "1318622958"),
    ("oauth_token", "370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb"),
    ("oauth_version", "1.0"),
]
CONSUMER_SECRET = "kAcSOqF21Fu85e7zjz7ZN2U4ZRhfV3WpwPAoE3Z7kBw"
TOKEN_SECRET = "LswwdoUaIvS8ltyTt5jkRh4J50vUPVVHtR2YPi5kE"
BASE = (
    "POST&https%3A%2F%2Fapi.twitter.com%2F1.1%2Fstatuses%2Fupdate.json&include_entities%3Dtrue%26"
    "oauth_consumer_key%3Dxvz1evFS4wEEPTGEFPHBog%26oauth_nonce%3DkYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg%26"
    "oauth_signature_method%3DHMAC-SHA1%26oauth_timestamp%3D1318622958%26"
    "oauth_token%3D370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb%26oauth_version%3D1.0%26"
    "status%3DHello%2520Ladies%2520%252B%2520Gentlemen%252C%2520a%2520signed%2520OAuth%2520request%2521"
)


def test_base_string_matches_the_documented_one() -> None:
    assert base_string("post", "https://api.twitter.com/1.1/statuses/update.json", PARAMS) == BASE


def test_signature_matches_the_documented_test_vector() -> None:
    assert signature(BASE, CONSUMER_SECRET, TOKEN_SECRET) == "hCtSmYh+iHYCEqBWrE7C7hYmtUk="
    x_base = base_string("POST", "https://api.x.com/1.1/statuses/update.json", PARAMS)
    assert signature(x_base, CONSUMER_SECRET, TOKEN_SECRET) == "Ls93hJiZbQ3akF3HF3x1Bz8/zU4="


@pytest.mark.parametrize(("raw", "encoded"), [
    ("Ladies + Gentlemen", "Ladies%20%2B%20Gentlemen"),
    ("☃", "%E2%98%83"),
    ("An encoded string!", "An%20encoded%20string%21"),
    ("Dogs, Cats & Mice", "Dogs%2C%20Cats%20%26%20Mice"),
    ("-._~", "-._~"),
])
def test_percent_encoding_is_rfc3986(raw: str, encoded: str) -> None:
    assert pct(raw) == encoded


def test_base_url_drops_default_ports_and_lowercases_host() -> None:
    assert base_url("HTTP", "Example.COM:80", "/1.1/x.json") == "http://example.com/1.1/x.json"
    assert base_url("http", "127.0.0.1:8080", "/1.1/x.json") == "http://127.0.0.1:8080/1.1/x.json"


def test_verifier_accepts_the_vector_inside_its_window_and_rejects_a_replay() -> None:
    header = "OAuth " + ", ".join(f'{k}="{pct(v)}"' for k, v in [
        *[p for p in PARAMS if p[0].startswith("oauth_")], ("oauth_signature", "hCtSmYh+iHYCEqBWrE7C7hYmtUk="),
    ])
    assert parse_authorization(header)["oauth_signature"] == "hCtSmYh+iHYCEqBWrE7C7hYmtUk="
    verifier = Verifier(
        consumers={"xvz1evFS4wEEPTGEFPHBog": CONSUMER_SECRET},
        tokens={"370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb": TOKEN_SECRET},
        clock=lambda: 1318622958 + 10,
    )
    body = [p for p in PARAMS if not p[0].startswith("oauth_")]
    url = "https://api.twitter.com/1.1/statuses/update.json"
    verifier.verify("POST", url, header, body)
    with pytest.raises(AuthError) as replay:
        verifier.verify("POST", url, header, body)
    assert (replay.value.status, replay.value.code) == (401, 32)
    late = Verifier(consumers=verifier.consumers, tokens=verifier.tokens, clock=lambda: 1318622958 + 301)
    with pytest.raises(AuthError) as old:
        late.verify("POST", url, header, body)
    assert (old.value.status, old.value.code) == (401, 135)
    with pytest.raises(AuthError) as changed:
        verifier.verify("POST", url, header, [("status", "Hello"), ("include_entities", "true")])
    assert changed.value.code == 32
