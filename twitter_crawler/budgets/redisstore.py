"""Budgets kept in Redis (``TWITTER_RATELIMIT_REDIS_URL``), shared by crawls in any process on
any machine that use the same token.

One hash per (token, endpoint), at ``twitter_crawler:budget:<scope>:<endpoint>``, where
``<scope>`` is a SHA-256 prefix of the API's origin and the token
(:func:`~twitter_crawler.budgets.budget_scope`): a key never holds a token. Its fields:
``limited`` (``0``: the endpoint answers without rate-limit headers), ``limit``, ``remaining``
and ``reset`` (absent: the window is unknown), ``probe`` and ``probe_until`` (the probe lease).
Times are integer milliseconds since the epoch.

Each take and each update is one Lua script, so that Redis runs it atomically: two crawls can
never both spend the last unit of a window, nor both probe an unknown one. Every write sets the
key's expiry to the end of what it records (the window's reset plus the margin, or the lease)
plus a second, after which the window is unknown anyway: nothing outlives its use, and a crawl
killed with a probe in flight leaves a lease that expires by itself.

The client is redis-py's asyncio client (``redis.asyncio``), on the reactor's event loop:
nothing blocks. A Redis that cannot be reached raises
:class:`~twitter_crawler.budgets.BudgetsUnreachable` (its message never holds the URL's
password); the middleware closes the crawl with ``twitter_redis_unreachable``.
"""

from __future__ import annotations

import itertools
import os
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from twitter_crawler.budgets import GO, PROBE, WAIT, Answer, BudgetsUnreachable, Take, Window

if TYPE_CHECKING:
    from redis.asyncio import Redis
    from redis.commands.core import AsyncScript

KEY_PREFIX = "twitter_crawler:budget"
#: Seconds to connect, and to wait for an answer: Redis answers in microseconds; one that takes
#: this long is not there.
TIMEOUT = 5.0
_ids = itertools.count(1)

# Shared by both scripts: expire a budget key one second after what it records ends.
_EXPIRE = """
local function expire(k, now, reset, margin, probe_until, idle)
  local t = math.max(reset + margin, probe_until, now + idle) - now + 1000
  redis.call('PEXPIRE', k, math.floor(t))
end
"""

# KEYS[1] the budget; ARGV: now, margin, lease (ms), the lease id to take.
# Returns {kind, until_ms, spent}.
TAKE = _EXPIRE + """
local k = KEYS[1]
local now, margin, lease = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local s = redis.call('HMGET', k, 'limited', 'remaining', 'reset', 'probe', 'probe_until')
if s[1] == '0' then return {'go', 0, 0} end
local remaining, reset = tonumber(s[2]), tonumber(s[3]) or 0
if remaining and reset > 0 and now >= reset + margin then
  -- the window is over: the next one is unknown until a probe's answer says
  redis.call('HDEL', k, 'remaining', 'reset')
  remaining, reset = nil, 0
end
if remaining == nil then
  local probe_until = tonumber(s[5]) or 0
  if s[4] and probe_until > now then return {'wait', probe_until, 0} end
  redis.call('HSET', k, 'probe', ARGV[4], 'probe_until', now + lease)
  expire(k, now, reset, margin, now + lease, 0)
  return {'probe', 0, 0}
end
if remaining > 0 then
  redis.call('HSET', k, 'remaining', remaining - 1)
  return {'go', 0, 0}
end
return {'wait', reset + margin, 1}
"""

# KEYS[1] the budget; ARGV: now, margin, probe id ('' for none), limited ('1'/'0'), is429
# ('1'/'0'), remaining, reset (ms), limit ('' if unknown), floor (ms), idle ttl (ms).
# Returns {limited, remaining (-1: unknown), reset, limit (-1: unknown), probing}.
UPDATE = _EXPIRE + """
local k = KEYS[1]
local now, margin = tonumber(ARGV[1]), tonumber(ARGV[2])
local s = redis.call('HMGET', k, 'limited', 'remaining', 'reset', 'probe', 'probe_until', 'limit')
local probe_until = tonumber(s[5]) or 0
local probing = s[4] and 1 or 0
if ARGV[3] ~= '' and s[4] == ARGV[3] then
  redis.call('HDEL', k, 'probe', 'probe_until')
  probe_until, probing = 0, 0
end
local remaining, reset = tonumber(s[2]), tonumber(s[3]) or 0
local limit = tonumber(s[6]) or -1
if ARGV[4] == '0' then
  if remaining == nil then
    redis.call('HSET', k, 'limited', '0')
    expire(k, now, 0, 0, probe_until, tonumber(ARGV[10]))
    return {0, -1, 0, limit, probing}
  end
  return {1, remaining, reset, limit, probing}
end
local r, nr = tonumber(ARGV[6]), tonumber(ARGV[7])
if ARGV[8] ~= '' then limit = tonumber(ARGV[8]) end
if remaining == nil or nr > reset + 1000 then
  -- a new window: the headers are the truth (while it was unknown only its probe went out)
  remaining, reset = r, nr
elseif nr < reset - 1000 then
  -- a late answer from an earlier window says nothing about this one
else
  -- same window: answers come back out of order, trust the lowest count
  remaining = math.min(remaining, r)
end
if ARGV[5] == '1' and r <= 0 then
  remaining = 0
  reset = math.max(reset, nr, tonumber(ARGV[9]))
end
redis.call('HSET', k, 'limited', '1', 'remaining', remaining, 'reset', reset, 'limit', limit)
expire(k, now, reset, margin, probe_until, 0)
return {1, remaining, reset, limit, probing}
"""

# KEYS[1] the budget; ARGV[1] the lease id: gives it back if it is still the one held.
RELEASE = """
if redis.call('HGET', KEYS[1], 'probe') == ARGV[1] then
  redis.call('HDEL', KEYS[1], 'probe', 'probe_until')
end
return 0
"""


def _ms(seconds: float) -> int:
    return round(seconds * 1000)


def safe_url(url: str) -> str:
    """The URL as the log may show it: scheme, host, port and database, never a password."""
    parts = urlsplit(url)
    where = parts.hostname or parts.path or "?"
    try:
        port = parts.port
    except ValueError:
        port = None
    path = parts.path if parts.hostname else ""
    return f"{parts.scheme}://{where}{f':{port}' if port else ''}{path}"


class RedisBudgets:
    def __init__(self, url: str, scope: str, *, margin: float, lease: float) -> None:
        self.url = url
        self.scope = scope
        self.margin = margin
        self.lease = lease
        self._client: Redis | None = None
        self._scripts: dict[str, AsyncScript] = {}
        # A lease id names this process and request: a late answer never frees another's lease.
        self._owner = f"{os.getpid()}-{os.urandom(4).hex()}"

    def key(self, endpoint: str) -> str:
        return f"{KEY_PREFIX}:{self.scope}:{endpoint}"

    def _script(self, name: str) -> AsyncScript:
        if self._client is None:
            try:
                from redis.asyncio import Redis
            except ImportError:
                raise BudgetsUnreachable(
                    "redis-py is not installed: pip install 'twitter_crawler[redis]'") from None
            # Built on first use, so on the reactor's running event loop.
            self._client = Redis.from_url(
                self.url, socket_connect_timeout=TIMEOUT, socket_timeout=TIMEOUT,
                decode_responses=True,
            )
            self._scripts = {n: self._client.register_script(s)
                             for n, s in (("take", TAKE), ("update", UPDATE), ("release", RELEASE))}
        return self._scripts[name]

    async def _run(self, name: str, endpoint: str, *args: Any) -> Any:
        script = self._script(name)
        from redis.exceptions import RedisError

        try:
            return await script(keys=[self.key(endpoint)], args=list(args))
        except (RedisError, OSError) as exc:
            raise BudgetsUnreachable(self._reason(exc)) from None

    def _reason(self, exc: BaseException) -> str:
        text = f"{type(exc).__name__}: {exc}"
        password = urlsplit(self.url).password
        if password:
            text = text.replace(password, "***")
        return text

    async def take(self, endpoint: str, now: float) -> Take:
        lease_id = f"{self._owner}-{next(_ids)}"
        kind, until, spent = await self._run("take", endpoint, _ms(now), _ms(self.margin),
                                              _ms(self.lease), lease_id)
        if kind == GO:
            return Take(GO)
        if kind == PROBE:
            return Take(PROBE, probe_id=lease_id)
        return Take(WAIT, until=int(until) / 1000, spent=bool(int(spent)))

    async def update(self, endpoint: str, now: float, answer: Answer, probe_id: str = "") -> Window:
        from twitter_crawler.budgets import UNLIMITED_TTL

        limited, remaining, reset, limit, probing = await self._run(
            "update", endpoint, _ms(now), _ms(self.margin), probe_id,
            "1" if answer.limited else "0", "1" if answer.status == 429 else "0",
            answer.remaining, _ms(answer.reset), "" if answer.limit is None else answer.limit,
            _ms(answer.floor), _ms(UNLIMITED_TTL))
        return Window(limited=bool(int(limited)),
                      remaining=None if int(remaining) < 0 else int(remaining),
                      reset_at=int(reset) / 1000, limit=None if int(limit) < 0 else int(limit),
                      probing=bool(int(probing)))

    async def release(self, endpoint: str, probe_id: str) -> None:
        if probe_id:
            await self._run("release", endpoint, probe_id)

    async def window(self, endpoint: str) -> Window:
        if self._client is None:
            self._script("take")
        assert self._client is not None
        from redis.exceptions import RedisError

        try:
            s = await self._client.hgetall(self.key(endpoint))
        except (RedisError, OSError) as exc:
            raise BudgetsUnreachable(self._reason(exc)) from None
        return Window(limited=s.get("limited") != "0",
                      remaining=int(s["remaining"]) if "remaining" in s else None,
                      reset_at=int(s.get("reset", 0)) / 1000,
                      limit=int(s["limit"]) if int(s.get("limit", -1)) >= 0 else None,
                      probing="probe" in s)

    async def close(self) -> None:
        if self._client is not None:
            client, self._client = self._client, None
            await client.aclose()

    def describe(self) -> str:
        return f"Redis at {safe_url(self.url)}"
