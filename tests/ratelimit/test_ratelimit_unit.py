"""RateLimitMiddleware as a component (built with ``build_from_crawler``), on a fake clock: what
it believes of the headers, when it lets requests go, what it says and counts while they wait."""

from __future__ import annotations

import asyncio
import logging
import re
from email.utils import formatdate
from types import SimpleNamespace

import pytest
from scrapy import Request
from scrapy.exceptions import NotConfigured
from scrapy.utils.defer import deferred_f_from_coro_f

from tests.ratelimit.fakeclock import NOW, FakeClock, answer, api_request, build
from twitter_crawler.budgets.memory import State
from twitter_crawler.downloadermiddlewares import ratelimit
from twitter_crawler.downloadermiddlewares.ratelimit import RateLimitMiddleware

LOGGER = "twitter_crawler.downloadermiddlewares.ratelimit"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def mw(monkeypatch: pytest.MonkeyPatch, clock: FakeClock) -> RateLimitMiddleware:
    return build(RateLimitMiddleware, monkeypatch, clock, ratelimit)


def window(mw: RateLimitMiddleware, endpoint: str) -> State:
    """The endpoint's window in the budgets this crawl shares with the process's other crawls."""
    return mw.shared.windows[endpoint]


async def spin(n: int = 20) -> None:
    """Let the event loop run other tasks a few times (each fake sleep yields once)."""
    for _ in range(n):
        await asyncio.sleep(0)


async def first_done(tasks: list[asyncio.Task]) -> asyncio.Task:
    done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    return done.pop()


def test_disabled_is_not_configured(monkeypatch: pytest.MonkeyPatch, clock: FakeClock) -> None:
    # Only the switch turns it off: bad values never get here (tests/crawl/test_settings_check.py).
    with pytest.raises(NotConfigured):
        build(RateLimitMiddleware, monkeypatch, clock, TWITTER_RATELIMIT_ENABLED=False)


# -- resets that cannot be right are clamped and logged -------------------------------------------


@deferred_f_from_coro_f
async def test_reset_too_far_ahead_is_clamped_and_logged(
    mw: RateLimitMiddleware, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    req = api_request()
    with caplog.at_level(logging.WARNING, LOGGER):
        await (mw.process_response(req, answer(req, remaining=0, reset=NOW + 86_400)))
    budget = window(mw, "followers/list")
    assert budget.reset_at == NOW + 905  # TWITTER_RATELIMIT_MAX_WAIT
    assert mw.crawler.stats.get_value("twitter/ratelimit/clamped") == 1
    [line] = [r.getMessage() for r in caplog.records]
    assert line == ("followers/list: rate-limit reset 1700086400 is +86400s from now; using 905s "
                    "(is this machine's clock right?)")


@pytest.mark.parametrize(("reset", "shown"), [(NOW - 3600, "1699996400"), ("soon", "soon"), ("nan", "nan")])
@deferred_f_from_coro_f
async def test_reset_in_the_past_or_unreadable_is_clamped(
    mw: RateLimitMiddleware, clock: FakeClock, caplog: pytest.LogCaptureFixture, reset: object, shown: str
) -> None:
    req = api_request()
    with caplog.at_level(logging.WARNING, LOGGER):
        await (mw.process_response(req, answer(req, remaining=0, reset=reset)))
    budget = window(mw, "followers/list")
    if shown == "soon":  # unreadable: Twitter's whole window, not clamped
        assert budget.reset_at == NOW + ratelimit.DEFAULT_WINDOW
        assert not caplog.records
        return
    assert NOW < budget.reset_at <= NOW + 905
    assert mw.crawler.stats.get_value("twitter/ratelimit/clamped") == 1
    assert f"rate-limit reset {shown} is" in caplog.records[0].getMessage()


@deferred_f_from_coro_f
async def test_server_clock_ahead_shifts_resets_instead_of_clamping(
    mw: RateLimitMiddleware, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    """The API's clock 10 minutes ahead (Date header): its reset, 100 s after its own now, is
    100 s after ours, not 700 s (clamped) or a reset that never seems to come."""
    req = api_request()
    with caplog.at_level(logging.INFO, LOGGER):
        await (mw.process_response(req, answer(
            req, remaining=0, reset=NOW + 600 + 100, date=formatdate(NOW + 600, usegmt=True))))
    assert window(mw, "followers/list").reset_at == NOW + 100
    assert mw.crawler.stats.get_value("twitter/ratelimit/clamped") is None
    assert mw.crawler.stats.get_value("twitter/ratelimit/clock_skew") == 600
    assert [r.getMessage() for r in caplog.records] == [
        "The API's clock is +600s from this machine's clock: rate-limit resets are read on the "
        "API's clock (is this machine's clock right?)"]
    # the same skew again says nothing more; clocks that agree again are noted once
    caplog.clear()
    with caplog.at_level(logging.INFO, LOGGER):
        await (mw.process_response(req, answer(req, remaining=0, reset=NOW + 700,
                                                    date=formatdate(NOW + 600, usegmt=True))))
        await (mw.process_response(req, answer(req, remaining=0, reset=NOW + 100,
                                                    date=formatdate(NOW, usegmt=True))))
    assert [r.getMessage() for r in caplog.records] == [
        "The API's clock agrees with this machine's clock again"]
    assert window(mw, "followers/list").reset_at == NOW + 100


# -- an unknown budget is probed by one request -------------------------------------------------


@deferred_f_from_coro_f
async def test_unknown_budget_lets_one_probe_through(mw: RateLimitMiddleware, clock: FakeClock) -> None:
    reqs = [api_request(n=i) for i in range(4)]
    assert await mw.process_request(reqs[0]) is None  # the probe goes at once
    assert reqs[0].meta["_twitter_probe"]  # the lease it holds
    waiting = [asyncio.ensure_future(mw.process_request(r)) for r in reqs[1:]]
    await spin(50)
    assert not any(t.done() for t in waiting), "sent before the probe's answer told the budget"
    # the probe's answer: 2 left in this window
    await mw.process_response(reqs[0], answer(reqs[0], remaining=2, reset=NOW + 900))
    first = await first_done(waiting)
    await spin(50)
    assert sum(t.done() for t in waiting) == 2, "exactly the 2 requests the budget allows"
    assert first.result() is None
    assert window(mw, "followers/list").remaining == 0
    for task in waiting:
        task.cancel()
    await spin(5)


@deferred_f_from_coro_f
async def test_failed_probe_frees_the_endpoint(mw: RateLimitMiddleware) -> None:
    probe, other = api_request(n=1), api_request(n=2)
    assert await mw.process_request(probe) is None
    waiting = asyncio.ensure_future(mw.process_request(other))
    await spin(20)
    assert not waiting.done()
    await mw.process_exception(probe, ConnectionError("dropped"))
    assert await waiting is None
    assert other.meta["_twitter_probe"]  # the next one probes


@deferred_f_from_coro_f
async def test_endpoint_without_headers_is_not_limited(mw: RateLimitMiddleware) -> None:
    probe = api_request("users/show")
    await mw.process_request(probe)
    await mw.process_response(probe, answer(probe))
    results = await asyncio.gather(*(mw.process_request(api_request("users/show", n=i)) for i in range(5)))
    assert results == [None] * 5


# -- parking: the lines a person reads, the stats, the release ----------------------------------


@deferred_f_from_coro_f
async def test_parking_says_who_waits_until_when_and_resumes(
    mw: RateLimitMiddleware, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, LOGGER)
    probe = api_request()
    await mw.process_request(probe)
    # window spent, resets 14m 58s from now (22:28:18 UTC); released 1 s (margin) later
    await mw.process_response(probe, answer(probe, remaining=0, reset=NOW + 898))
    reqs = [api_request(n=i) for i in range(1, 4)]
    tasks = [asyncio.ensure_future(mw.process_request(r)) for r in reqs]
    first = await first_done(tasks)
    assert clock.now >= NOW + 898 + 1, "released before the reset plus the margin"
    assert reqs[tasks.index(first)].meta.get("_twitter_probe"), "the first released probes the new window"
    await spin(50)
    assert sum(t.done() for t in tasks) == 1, "the others wait for the new window's budget"
    released = reqs[tasks.index(first)]
    await mw.process_response(released, answer(released, remaining=14, reset=NOW + 898 + 1 + 900))
    assert [await t for t in tasks] == [None, None, None]

    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 2, messages
    m = re.fullmatch(r"followers/list: rate limit reached, 3 requests wait until (\S+) UTC \((.+)\)",
                     messages[0])
    assert m, messages[0]
    assert m[1] == "22:28:19"
    assert m[2] in ("14m 58s", "14m 59s")
    assert messages[1] == "followers/list: rate limit window reset, 3 parked requests resume"
    stats = mw.crawler.stats
    assert stats.get_value("twitter/ratelimit/parked") == 3
    assert stats.get_value("twitter/ratelimit/endpoint/followers/list/parked") == 3
    assert 898 <= stats.get_value("twitter/ratelimit/wait_seconds") <= 900
    assert stats.get_value("twitter/ratelimit/429") is None


@deferred_f_from_coro_f
async def test_short_park_says_nothing_rather_than_half(
    mw: RateLimitMiddleware, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    """A wait shorter than the moment the line waits for company logs neither line: never a
    "resume" without its "reached"."""
    caplog.set_level(logging.INFO, LOGGER)
    mw.margin = mw.shared.margin = 0.0
    probe = api_request()
    await mw.process_request(probe)
    clock.now = NOW + 0.9
    await mw.process_response(probe, answer(probe, remaining=0, reset=NOW + 1))
    assert await mw.process_request(api_request(n=1)) is None
    assert caplog.records == []
    assert mw.crawler.stats.get_value("twitter/ratelimit/parked") == 1


@deferred_f_from_coro_f
async def test_429_sends_the_request_back_to_wait_for_the_reset(
    mw: RateLimitMiddleware, clock: FakeClock
) -> None:
    probe = api_request("users/show")
    await mw.process_request(probe)
    out = await mw.process_response(probe, answer(probe, 429, remaining=0, reset=NOW + 60, limit=900))
    assert isinstance(out, Request)
    assert out.dont_filter and out.url == probe.url
    assert b"Authorization" not in out.headers
    assert mw.crawler.stats.get_value("twitter/ratelimit/429") == 1
    assert mw.crawler.stats.get_value("twitter/ratelimit/endpoint/users/show/429") == 1
    assert await mw.process_request(out) is None
    assert clock.now >= NOW + 61  # released at the reset plus the margin, not before
    assert mw.crawler.stats.get_value("twitter/ratelimit/parked") == 1


@deferred_f_from_coro_f
async def test_repeated_429s_wait_longer_each_time(mw: RateLimitMiddleware, clock: FakeClock) -> None:
    """A reset that does not hold (already past: clamped to a second) cannot turn into a stream
    of requests: each 429 in a row waits twice as long; an answer that gets through resets it."""
    waits = []
    req = api_request("users/show")
    await mw.process_request(req)
    for _ in range(6):
        start = clock.now
        req = await mw.process_response(req, answer(req, 429, remaining=0, reset=clock.now - 3600))
        assert await mw.process_request(req) is None
        waits.append(clock.now - start)
    assert [round(w) for w in waits] == [2, 2, 4, 8, 16, 32]
    await mw.process_response(req, answer(req, 200, remaining=5, reset=clock.now + 900))
    assert mw.budgets["users/show"].strikes == 0


@deferred_f_from_coro_f
async def test_late_answer_of_an_earlier_window_does_not_spend_the_new_one(
    mw: RateLimitMiddleware, clock: FakeClock
) -> None:
    probe = api_request()
    await mw.process_request(probe)
    await mw.process_response(probe, answer(probe, remaining=10, reset=NOW + 900))
    old = api_request(n=1)
    await mw.process_request(old)
    clock.now = NOW + 905  # the window is over; a new probe learns the new one
    new = api_request(n=2)
    await mw.process_request(new)
    await mw.process_response(new, answer(new, remaining=14, reset=NOW + 1805))
    # the old request's answer comes back late, from the old window
    await mw.process_response(old, answer(old, remaining=0, reset=NOW + 900))
    assert window(mw, "followers/list").remaining == 14


@deferred_f_from_coro_f
async def test_parked_requests_are_handed_back_when_the_crawl_closes(
    mw: RateLimitMiddleware, clock: FakeClock
) -> None:
    probe = api_request()
    await mw.process_request(probe)
    await mw.process_response(probe, answer(probe, remaining=0, reset=NOW + 600))
    parked = asyncio.ensure_future(mw.process_request(api_request(n=1)))
    await spin(10)
    assert not parked.done()
    mw.crawler.engine = SimpleNamespace(running=False, _slot=None)  # Ctrl-C
    back = await parked
    assert isinstance(back, Request) and back.dont_filter
    assert clock.now < NOW + 600
    assert mw.crawler.stats.get_value("twitter/ratelimit/handed_back") == 1
    assert mw.budgets["followers/list"].parked == 0


def test_closing_check_pins_the_engine_internals() -> None:
    """``engine_closing`` reads the private ``engine._slot.closing`` of Scrapy 2.19: a real
    engine must have it (an upgrade that drops it fails here, not silently in a crawl)."""
    import inspect

    from scrapy.core.engine import ExecutionEngine, _Slot

    assert "self.closing" in inspect.getsource(_Slot.__init__)
    assert "self._slot" in inspect.getsource(ExecutionEngine.__init__)


def test_engine_wake_pins_the_engine_internals() -> None:
    """``engine_wake`` calls the private ``engine._slot.nextcall`` and ``scraper._check_if_closing``
    of Scrapy 2.19: without them a crawl with media files would hang on Ctrl-C."""
    import inspect

    from scrapy.core.engine import _Slot
    from scrapy.core.scraper import Scraper

    assert "self.nextcall" in inspect.getsource(_Slot.__init__)
    source = inspect.getsource(Scraper._check_if_closing)
    assert "self.slot.closing" in source and "is_idle()" in source
