"""The retry backoff, the error middleware and the download handler as components (built with
``build_from_crawler``): what each decides for each kind of answer."""

from __future__ import annotations

import asyncio
import logging
from types import SimpleNamespace

import pytest
from scrapy import Request
from scrapy.exceptions import CloseSpider, NotConfigured
from scrapy.http import Response
from scrapy.utils.defer import deferred_f_from_coro_f
from scrapy.utils.misc import build_from_crawler
from scrapy.utils.test import get_crawler

from tests.ratelimit.fakeclock import FakeClock, build, project_settings
from tests.support.apiversion import V1
from twitter_crawler.addon import Addon
from twitter_crawler.downloadermiddlewares import backoff
from twitter_crawler.downloadermiddlewares.backoff import RetryBackoffMiddleware
from twitter_crawler.downloadermiddlewares.oauth import OAuth1Middleware
from twitter_crawler.downloadermiddlewares.ratelimit import RateLimitMiddleware
from twitter_crawler.downloadhandlers.http11 import NoResendHTTP11DownloadHandler
from twitter_crawler.exceptions import MalformedPayload, TwitterAPIError
from twitter_crawler.spidermiddlewares.errors import TwitterErrorMiddleware
from twitter_crawler.spiders.twitter import TwitterSpider

API = "https://api.twitter.com/1.1"


# -- retry backoff ------------------------------------------------------------------------------


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def backoff_mw(monkeypatch: pytest.MonkeyPatch, clock: FakeClock, **settings: object) -> RetryBackoffMiddleware:
    return build(RetryBackoffMiddleware, monkeypatch, clock, backoff, **settings)


@deferred_f_from_coro_f
async def test_backoff_doubles_per_retry_up_to_the_maximum(monkeypatch: pytest.MonkeyPatch, clock: FakeClock) -> None:
    mw = backoff_mw(monkeypatch, clock, TWITTER_RETRY_BACKOFF_BASE=0.5, TWITTER_RETRY_BACKOFF_MAX=3.0,
                    TWITTER_RETRY_BACKOFF_JITTER=0.0)
    waits = []
    for attempt in range(7):
        start = clock.now
        req = Request(f"{API}/users/show.json", meta={"retry_times": attempt} if attempt else {})
        assert await mw.process_request(req) is None
        waits.append(clock.now - start)
    assert waits == [0, 0.5, 1.0, 2.0, 3.0, 3.0, 3.0]
    stats = mw.crawler.stats
    assert stats.get_value("twitter/retry/backoff/count") == 6
    assert stats.get_value("twitter/retry/backoff/seconds") == pytest.approx(12.5)


def test_backoff_jitter_only_shortens(monkeypatch: pytest.MonkeyPatch, clock: FakeClock) -> None:
    mw = backoff_mw(monkeypatch, clock, TWITTER_RETRY_BACKOFF_BASE=1.0, TWITTER_RETRY_BACKOFF_MAX=60.0,
                    TWITTER_RETRY_BACKOFF_JITTER=0.25)
    delays = [mw.delay(3) for _ in range(200)]
    assert all(3.0 <= d <= 4.0 for d in delays)
    assert len(set(delays)) > 1


@deferred_f_from_coro_f
async def test_backoff_waits_once_per_attempt(monkeypatch: pytest.MonkeyPatch, clock: FakeClock) -> None:
    """A retry that comes back through the middlewares (a 429 parked it) does not wait again."""
    mw = backoff_mw(monkeypatch, clock, TWITTER_RETRY_BACKOFF_JITTER=0.0)
    req = Request(f"{API}/users/show.json", meta={"retry_times": 2})
    await mw.process_request(req)
    assert clock.now - FakeClock().now == 2.0
    again = req.replace(dont_filter=True)
    await mw.process_request(again)
    assert clock.now - FakeClock().now == 2.0
    third = again.replace(meta={**again.meta, "retry_times": 3})
    await mw.process_request(third)
    assert clock.now - FakeClock().now == 6.0


@deferred_f_from_coro_f
async def test_backoff_hands_the_request_back_when_the_crawl_closes(
    monkeypatch: pytest.MonkeyPatch, clock: FakeClock
) -> None:
    mw = backoff_mw(monkeypatch, clock, TWITTER_RETRY_BACKOFF_BASE=30.0, TWITTER_RETRY_BACKOFF_JITTER=0.0)
    req = Request(f"{API}/users/show.json", meta={"retry_times": 1})
    waiting = asyncio.ensure_future(mw.process_request(req))
    for _ in range(5):
        await asyncio.sleep(0)
    assert not waiting.done()
    mw.crawler.engine = SimpleNamespace(running=True, _slot=SimpleNamespace(closing=object()))
    back = await waiting
    assert isinstance(back, Request) and back.dont_filter and back.meta["retry_times"] == 1
    assert clock.now - FakeClock().now < 30
    assert mw.crawler.stats.get_value("twitter/retry/backoff/handed_back") == 1


def test_backoff_settings(monkeypatch: pytest.MonkeyPatch, clock: FakeClock) -> None:
    # BASE=0 is the documented off switch; bad values never get here
    # (tests/crawl/test_settings_check.py).
    with pytest.raises(NotConfigured):
        backoff_mw(monkeypatch, clock, TWITTER_RETRY_BACKOFF_BASE=0)
    # between RetryMiddleware (550) and the rate-limit middleware: a retry waits before it takes
    # a budget unit, and the OAuth signer (last) signs it afterwards
    settings = get_crawler(settings_dict={"ADDONS": {Addon: 0}}).settings
    order = settings.getdict("DOWNLOADER_MIDDLEWARES")
    assert 550 < order[RetryBackoffMiddleware] < order[RateLimitMiddleware] \
        < order[OAuth1Middleware]
    assert 429 not in settings.getlist("RETRY_HTTP_CODES")


# -- the download handler -----------------------------------------------------------------------


@deferred_f_from_coro_f
async def test_handler_never_resends_a_signed_request_by_itself() -> None:
    crawler = get_crawler(settings_dict=project_settings())
    handler = build_from_crawler(NoResendHTTP11DownloadHandler, crawler)
    try:
        assert handler._pool.retryAutomatically is False
        assert handler._pool.persistent is True  # keep-alive itself stays
    finally:
        await handler.close()
    path = "twitter_crawler.downloadhandlers.http11.NoResendHTTP11DownloadHandler"
    settings = get_crawler(settings_dict={"ADDONS": {Addon: 0}}).settings
    assert settings.getdict("DOWNLOAD_HANDLERS") == {"http": path, "https": path}


# -- the error middleware -----------------------------------------------------------------------


@pytest.fixture
def errors() -> TwitterErrorMiddleware:
    """The middleware of a crawl over v1.1 (explicitly: the answers below are v1.1's endpoints and
    error bodies; v2's problems are judged end to end in tests/errors/test_fatal.py, per version)."""
    crawler = get_crawler(TwitterSpider, settings_dict=project_settings(RETRY_TIMES=2, **V1.settings))
    crawler.spider = crawler._create_spider(handle="alice")
    return build_from_crawler(TwitterErrorMiddleware, crawler)


def api_response(endpoint: str, status: int, body: bytes, **meta: object) -> Response:
    req = Request(f"{API}/{endpoint}.json?user_id=7", meta={"twitter_endpoint": endpoint, **meta},
                  cb_kwargs={"walk": {"user_id": "7"}})
    return Response(req.url, status=status, body=body, request=req)


def outcome(mw: TwitterErrorMiddleware, response: Response) -> list:
    try:
        mw.process_spider_input(response)
    except TwitterAPIError as exc:
        return list(mw.process_spider_exception(response, exc) or [])
    return ["passed"]


def code(c: int, message: str = "m") -> bytes:
    return b'{"errors":[{"code":%d,"message":"%s"}]}' % (c, message.encode())


@pytest.mark.parametrize(("endpoint", "status", "body", "reason"), [
    ("users/show", 401, code(32), "twitter_bad_credentials"),
    ("statuses/user_timeline", 401, code(89), "twitter_bad_credentials"),
    ("followers/list", 401, code(135), "twitter_bad_credentials"),
    ("users/show", 400, code(215), "twitter_bad_credentials"),
    ("users/show", 404, code(50), "twitter_user_not_found"),
    ("users/show", 403, code(63), "twitter_user_suspended"),
    ("followers/ids", 403, code(453), "twitter_access_level"),
])
def test_fatal_answers_close_with_one_line(
    errors: TwitterErrorMiddleware, caplog: pytest.LogCaptureFixture,
    endpoint: str, status: int, body: bytes, reason: str,
) -> None:
    with caplog.at_level(logging.INFO):
        for _ in range(3):  # answers of requests in flight meanwhile: still one line
            with pytest.raises(CloseSpider) as info:
                outcome(errors, api_response(endpoint, status, body))
            assert info.value.reason == reason
    assert len([r for r in caplog.records if r.levelno >= logging.ERROR]) == 1


def test_access_level_line_names_the_way_out(errors: TwitterErrorMiddleware, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR), pytest.raises(CloseSpider):
        outcome(errors, api_response("users/show", 403, code(453)))
    line = caplog.records[0].getMessage()
    assert "v1.1 reads need an elevated access level" in line
    assert "API v2" in line and "alternative" in line


def test_401_code_32_after_the_credentials_worked_is_retried_with_a_fresh_signature(
    errors: TwitterErrorMiddleware, caplog: pytest.LogCaptureFixture
) -> None:
    """A repeated nonce is answered 401 code 32, like wrong credentials. Once an answer got
    through, such a 401 is retried (RETRY_TIMES = 2 here) instead of closing the crawl; a refusal
    that persists still closes it."""
    assert outcome(errors, api_response("users/show", 200, b"{}")) == ["passed"]
    response = api_response("statuses/user_timeline", 401, code(32, "Could not authenticate you."))
    with caplog.at_level(logging.WARNING):
        [retry] = outcome(errors, response)
    assert isinstance(retry, Request) and retry.dont_filter and retry.url == response.url
    assert retry.meta["retry_times"] == 1  # so it waits the retry backoff, and is bounded
    assert "retrying it with a fresh signature" in caplog.records[0].getMessage()
    [again] = outcome(errors, Response(retry.url, status=401, body=response.body, request=retry))
    assert again.meta["retry_times"] == 2
    caplog.clear()
    with caplog.at_level(logging.WARNING), pytest.raises(CloseSpider) as info:
        outcome(errors, Response(again.url, status=401, body=response.body, request=again))
    assert info.value.reason == "twitter_bad_credentials"
    assert [r.levelname for r in caplog.records] == ["WARNING", "ERROR"]  # gave up; the one line
    assert errors.crawler.stats.get_value("twitter/errors/auth_retried") == 2
    # other credential codes are never taken for a repeated nonce
    with pytest.raises(CloseSpider):
        outcome(errors, api_response("statuses/user_timeline", 401, code(89)))


@pytest.mark.parametrize(("status", "body", "stat"), [
    (401, b'{"request":"/1.1/statuses/user_timeline.json","error":"Not authorized."}', "protected"),
    (403, code(63, "User has been suspended."), "unavailable"),
    (404, code(50, "User not found."), "unavailable"),
    (404, code(34, "Sorry, that page does not exist."), "unavailable"),
])
def test_followed_accounts_that_are_protected_suspended_or_gone_are_skipped(
    errors: TwitterErrorMiddleware, caplog: pytest.LogCaptureFixture, status: int, body: bytes, stat: str
) -> None:
    with caplog.at_level(logging.INFO):
        assert outcome(errors, api_response("statuses/user_timeline", status, body)) == []
    assert errors.crawler.stats.get_value(f"twitter/errors/{stat}") == 1
    [line] = [r.getMessage() for r in caplog.records]
    assert line.startswith("Timeline of user 7 is ")
    assert "skipped" in line
    assert not errors.closing


def test_lookup_of_only_suspended_or_gone_accounts_is_skipped(errors: TwitterErrorMiddleware) -> None:
    response = api_response("users/lookup", 404, code(17, "No user matches for specified terms."))
    assert outcome(errors, response) == []
    assert errors.crawler.stats.get_value("twitter/errors/lookup_empty") == 1


def test_429_that_reaches_the_spider_is_retried_a_bounded_number_of_times(
    errors: TwitterErrorMiddleware, caplog: pytest.LogCaptureFixture
) -> None:
    response = api_response("friends/list", 429, code(88, "Rate limit exceeded"))
    seen = 0
    with caplog.at_level(logging.ERROR):
        while True:
            out = outcome(errors, response)
            if not out:
                break
            seen += 1
            [retry] = out
            response = Response(retry.url, status=429, body=response.body, request=retry)
    assert seen == 2  # RETRY_TIMES
    assert errors.crawler.stats.get_value("twitter/errors/failed") == 1
    assert "Gave up on" in caplog.records[-1].getMessage()


def test_malformed_body_is_retried_then_counted_and_logged(
    errors: TwitterErrorMiddleware, caplog: pytest.LogCaptureFixture
) -> None:
    response = api_response("followers/list", 200, b'{"users": [{"id_str": "1"')
    attempts = 0
    with caplog.at_level(logging.ERROR):
        while True:
            attempts += 1
            out = list(errors.process_spider_exception(response, MalformedPayload("body is not JSON")) or [])
            if not out:
                break
            [retry] = out
            assert retry.meta["retry_times"] == attempts
            response = Response(retry.url, status=200, body=response.body, request=retry)
    assert attempts == 3  # the first answer and RETRY_TIMES retries
    stats = errors.crawler.stats
    assert stats.get_value("twitter/errors/malformed") == 3
    assert stats.get_value("twitter/errors/malformed_gave_up") == 1
    assert stats.get_value("twitter/errors/retry/count") == 2
    [line] = [r.getMessage() for r in caplog.records if r.name.startswith("twitter_crawler")]
    assert line.startswith("Gave up on https://api.twitter.com/1.1/followers/list.json")
    assert "not valid JSON" in line


def test_a_profile_that_never_comes_is_fatal(errors: TwitterErrorMiddleware) -> None:
    # The same 5xx given up on a timeline is skipped; on the account's profile it ends the crawl.
    response = api_response("users/show", 503, code(130, "Over capacity"))
    with pytest.raises(CloseSpider) as info:
        outcome(errors, response)
    assert info.value.reason == "twitter_unavailable"
