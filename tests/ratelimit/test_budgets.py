"""The two budget stores side by side: in this process (shared by its crawlers) and in a real
Redis (shared by processes and machines). The same rules, checked on both, with the clock passed
in: one take per unit of a window, one probe of an unknown window (a lease that expires), answers
that teach the window, late answers that do not spend a new one, 429s that keep it spent."""

from __future__ import annotations

import os

import pytest
from scrapy.utils.defer import deferred_f_from_coro_f
from scrapy.utils.test import get_crawler

from tests.support.servers import RedisServer
from twitter_crawler.budgets import GO, PROBE, WAIT, Answer, budget_scope
from twitter_crawler.budgets.memory import shared_budgets
from twitter_crawler.budgets.redisstore import RedisBudgets

NOW = 1_700_000_000.0
EP = "statuses/user_timeline"


class Stores:
    """``make()`` -> a new store on one fresh scope (as another crawl of the same token);
    ``await close()`` at the end of the test closes their Redis connections."""

    def __init__(self, kind: str, redis_server: RedisServer) -> None:
        self.kind = kind
        self.redis_server = redis_server
        self.scope = os.urandom(8).hex()
        self.made: list = []

    def __call__(self, margin: float = 1.0, lease: float = 10.0):
        if self.kind == "memory":
            store = shared_budgets(self.scope, margin=margin, lease=lease)
        else:
            store = RedisBudgets(self.redis_server.url, self.scope, margin=margin, lease=lease)
        self.made.append(store)
        return store

    async def close(self) -> None:
        for store in self.made:
            await store.close()


@pytest.fixture(params=["memory", "redis"])
def make(request: pytest.FixtureRequest, redis_server: RedisServer) -> Stores:
    return Stores(request.param, redis_server)


def headers(remaining: int, reset: float, status: int = 200, limit: int = 3, floor: float = 0.0) -> Answer:
    return Answer(status, limited=True, remaining=remaining, reset=reset, limit=limit, floor=floor)


@deferred_f_from_coro_f
async def test_one_probe_then_the_window_as_the_headers_say(make) -> None:
    a, b = make(), make()  # two crawls of one token
    first = await a.take(EP, NOW)
    assert first.kind == PROBE and first.probe_id
    # while the probe is out, nobody else goes, in any crawl
    other = await b.take(EP, NOW + 0.1)
    assert other.kind == WAIT and not other.spent and other.until == pytest.approx(NOW + 10, abs=0.01)
    window = await a.update(EP, NOW + 0.2, headers(2, NOW + 30), first.probe_id)
    assert (window.remaining, window.reset_at, window.limit, window.probing) == (2, NOW + 30, 3, False)
    kinds = [(await s.take(EP, NOW + 0.3)).kind for s in (b, a, b)]
    assert kinds == [GO, GO, WAIT]
    spent = await a.take(EP, NOW + 0.4)
    assert spent.kind == WAIT and spent.spent and spent.until == pytest.approx(NOW + 31)
    # the window is over once its reset and the margin have passed: probed anew
    assert (await b.take(EP, NOW + 30.5)).kind == WAIT
    again = await b.take(EP, NOW + 31)
    assert again.kind == PROBE
    await make.close()


@deferred_f_from_coro_f
async def test_a_probe_lease_expires_when_its_crawl_is_gone(make) -> None:
    a, b = make(lease=5.0), make(lease=5.0)
    lost = await a.take(EP, NOW)  # its crawl dies: no answer ever comes
    assert lost.kind == PROBE
    assert (await b.take(EP, NOW + 4.9)).kind == WAIT
    taken = await b.take(EP, NOW + 5.0)
    assert taken.kind == PROBE and taken.probe_id != lost.probe_id
    # the dead crawl's late answer (or release) cannot free the new lease
    await a.release(EP, lost.probe_id)
    assert (await a.take(EP, NOW + 5.1)).kind == WAIT
    await b.release(EP, taken.probe_id)
    assert (await a.take(EP, NOW + 5.2)).kind == PROBE
    await make.close()


@deferred_f_from_coro_f
async def test_answers_out_of_order_and_late_ones(make) -> None:
    a = make()
    probe = await a.take(EP, NOW)
    await a.update(EP, NOW, headers(14, NOW + 60, limit=15), probe.probe_id)
    # same window: the lowest count wins (another crawl's requests were counted by the API)
    assert (await a.update(EP, NOW + 1, headers(5, NOW + 60, limit=15))).remaining == 5
    assert (await a.update(EP, NOW + 1, headers(9, NOW + 60, limit=15))).remaining == 5
    # a late answer of an earlier window says nothing of this one
    assert (await a.update(EP, NOW + 2, headers(0, NOW - 60, limit=15))).remaining == 5
    # a later window: its headers are the truth
    assert (await a.update(EP, NOW + 61, headers(13, NOW + 120, limit=15))).remaining == 13
    await make.close()


@deferred_f_from_coro_f
async def test_a_429_keeps_the_window_spent_at_least_for_the_backoff(make) -> None:
    a = make(margin=0.0)
    probe = await a.take(EP, NOW)
    w = await a.update(EP, NOW, headers(0, NOW + 2, status=429, floor=NOW + 8), probe.probe_id)
    assert (w.remaining, w.reset_at) == (0, NOW + 8)
    assert (await a.take(EP, NOW + 7.9)).until == pytest.approx(NOW + 8)
    await make.close()


@deferred_f_from_coro_f
async def test_an_endpoint_without_headers_is_not_limited(make) -> None:
    a, b = make(), make()
    probe = await a.take(EP, NOW)
    await a.update(EP, NOW, Answer(200, limited=False), probe.probe_id)
    assert [(await s.take(EP, NOW)).kind for s in (a, b, a)] == [GO, GO, GO]
    await make.close()


@deferred_f_from_coro_f
async def test_redis_keys_name_a_hash_never_the_token_and_expire(redis_server: RedisServer) -> None:
    token = "1-secret-Access-Token-of-someone"
    crawler = get_crawler(settings_dict={"TWITTER_API_URL": "http://127.0.0.1:9", "TWITTER_ACCESS_TOKEN": token,
                                         "TWITTER_CONSUMER_KEY": "ck"})
    scope = budget_scope(crawler.settings)
    assert token not in scope and len(scope) == 32
    other = get_crawler(settings_dict={"TWITTER_API_URL": "http://127.0.0.1:9", "TWITTER_ACCESS_TOKEN": "1-other",
                                       "TWITTER_CONSUMER_KEY": "ck"})
    assert budget_scope(other.settings) != scope  # another token: another budget
    store = RedisBudgets(redis_server.url, scope, margin=1.0, lease=3.0)
    import time

    now = time.time()
    probe = await store.take(EP, now)
    with redis_server.client() as client:
        keys = client.keys(f"twitter_crawler:budget:{scope}:*")
        assert keys == [f"twitter_crawler:budget:{scope}:{EP}"]
        assert 0 < client.pttl(keys[0]) <= 4000  # the lease and a second
        await store.update(EP, now, headers(2, now + 5), probe.probe_id)
        assert 5000 < client.pttl(keys[0]) <= 7000  # the reset, the margin and a second
        await store.close()
        assert not any(token in k or "secret" in k for k in client.keys("*"))
