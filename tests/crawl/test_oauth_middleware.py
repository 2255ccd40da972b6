"""The OAuth 1.0a signer: every attempt to the API host signed afresh, nothing else touched."""

from __future__ import annotations

import pytest
from oauthlib.common import Request as OAuthRequest
from oauthlib.oauth1.rfc5849 import signature
from scrapy import Request
from scrapy.exceptions import CloseSpider
from scrapy.http import Response
from scrapy.utils.misc import build_from_crawler
from scrapy.utils.test import get_crawler

from twitter_crawler.downloadermiddlewares.oauth import OAuth1Middleware

CREDS = {
    "TWITTER_CONSUMER_KEY": "ck-test",
    "TWITTER_CONSUMER_SECRET": "cs-test",
    "TWITTER_ACCESS_TOKEN": "at-test",
    "TWITTER_ACCESS_SECRET": "as-test",
}


def make_mw(api_url: str = "https://api.example.test", **creds: str) -> OAuth1Middleware:
    crawler = get_crawler(settings_dict={"TWITTER_API_URL": api_url, **creds})
    return build_from_crawler(OAuth1Middleware, crawler)


class FakeStats:
    def inc_value(self, *args: object) -> None:
        pass


def _verify(request: Request, consumer_secret: str, token_secret: str) -> bool:
    body = request.body.decode() if request.body else None
    headers = {k.decode(): v[0].decode() for k, v in request.headers.items()}
    oauth_request = OAuthRequest(request.url, request.method, body, headers)
    params = signature.collect_parameters(
        uri_query=oauth_request.uri_query, body=oauth_request.body,
        headers=oauth_request.headers, exclude_oauth_signature=True,
    )
    oauth_request.params = params
    oauth_request.signature = dict(
        signature.collect_parameters(headers=oauth_request.headers, exclude_oauth_signature=False)
    )["oauth_signature"]
    return signature.verify_hmac_sha1(oauth_request, consumer_secret, token_secret)


@pytest.fixture
def mw(monkeypatch: pytest.MonkeyPatch) -> OAuth1Middleware:
    middleware = make_mw(**CREDS)
    monkeypatch.setattr(middleware.crawler, "stats", FakeStats(), raising=False)
    return middleware


def test_signs_get_and_post_verifiably(mw: OAuth1Middleware) -> None:
    get = Request("https://api.example.test/1.1/users/show.json?screen_name=jack")
    mw.process_request(get)
    assert get.headers[b"Authorization"].startswith(b"OAuth ")
    assert _verify(get, "cs-test", "as-test")
    post = Request(
        "https://api.example.test/1.1/users/lookup.json", method="POST",
        body="user_id=1%2C2%2C3", headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    mw.process_request(post)
    assert _verify(post, "cs-test", "as-test")
    # The form parameters are part of the signature: changing them breaks it.
    tampered = post.replace(body="user_id=4")
    assert not _verify(tampered, "cs-test", "as-test")


def test_each_attempt_gets_a_fresh_nonce(mw: OAuth1Middleware) -> None:
    request = Request("https://api.example.test/1.1/statuses/user_timeline.json?user_id=1")
    mw.process_request(request)
    first = request.headers[b"Authorization"]
    mw.process_response(request, Response(request.url, status=503))
    assert b"Authorization" not in request.headers  # a retry copy carries no old signature
    mw.process_request(request)
    second = request.headers[b"Authorization"]
    nonce = lambda h: h.split(b'oauth_nonce="')[1].split(b'"')[0]  # noqa: E731
    assert nonce(first) != nonce(second)


def test_other_hosts_are_not_touched(mw: OAuth1Middleware) -> None:
    for url in ("https://pbs.twimg.com/media/x.jpg", "http://api.example.test/1.1/x.json",
                "https://api.example.test:444/1.1/x.json"):
        request = Request(url)
        mw.process_request(request)
        assert b"Authorization" not in request.headers


def test_secrets_are_not_in_the_header(mw: OAuth1Middleware) -> None:
    request = Request("https://api.example.test/1.1/users/show.json?screen_name=jack")
    mw.process_request(request)
    header = request.headers[b"Authorization"].decode()
    assert "cs-test" not in header and "as-test" not in header


def test_missing_credentials_against_a_remote_api_close_the_crawl(
    caplog: pytest.LogCaptureFixture,
) -> None:
    mw = make_mw(TWITTER_CONSUMER_KEY="ck", TWITTER_CONSUMER_SECRET="cs")
    with pytest.raises(CloseSpider) as info:
        mw.spider_opened()
    assert info.value.reason == "twitter_missing_credentials"
    assert "TWITTER_ACCESS_TOKEN, TWITTER_ACCESS_SECRET" in caplog.text


def test_a_local_api_gets_no_credentials_of_the_crawlers_own(caplog: pytest.LogCaptureFixture) -> None:
    # The crawler knows no emulator's credentials: whoever starts a crawl against one passes them.
    mw = make_mw("http://127.0.0.1:8080")
    with pytest.raises(CloseSpider) as info:
        mw.spider_opened()
    assert info.value.reason == "twitter_missing_credentials"
    assert ("TWITTER_CONSUMER_KEY, TWITTER_CONSUMER_SECRET, TWITTER_ACCESS_TOKEN, "
            "TWITTER_ACCESS_SECRET") in caplog.text
