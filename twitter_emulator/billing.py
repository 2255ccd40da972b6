"""What X charges for the answers the emulator serves: pay-per-use billing of API v2
(``../shared/docs/X_API_2026.md`` §2), the one price table of the emulator.

X bills **per resource returned**, not per request. The rules the emulator applies:

* **Kinds and prices** (:data:`PRICES`, USD per resource; ``POST /_emulator/billing
  {"prices": {...}}`` changes them): ``posts`` $0.005, each post in ``data`` of
  ``/2/users/:id/tweets``; ``users`` $0.010, each user of ``/2/users/by/username/:u`` and
  ``/2/users/me``; ``follows`` $0.010, each user in ``data`` of a ``/2/users/:id/followers`` or
  ``/following`` page; ``owned`` $0.001, an **Owned Read**: the posts, followers and followings
  of ``/2/users/:id/tweets``, ``/followers`` and ``/following`` when ``:id`` is the
  authenticated user **and** that user owns the developer app (``--app-owner``; by default the
  user of the default access token, the main account). App-only bearer requests have no
  authenticated user: never Owned Reads.
* **Daily deduplication**, per (resource, id): ``post``, ``user`` (by username, ``/users/me``)
  and ``follow`` (followers and followings: X's one "Following/Followers read" row) are three
  resources, so a user read once as a follower and once by username is charged twice, while a
  user both in the followers and the followings is charged once. A resource returned again
  within the same UTC day is not charged again, at whichever price it was first charged (an
  Owned Read included). The day is the emulator's billing clock: real UTC time plus the days
  ``POST /_emulator/billing {"advance_days": N}`` moved it on.
* **Not billed**: /1.1 (X closed v1.1 reads to self-serve developers: a v1.1 answer costs
  nothing here), failed answers (4xx, 5xx, dropped connections, refusals), answers with nothing
  in ``data`` (empty pages, ``errors`` only), ``/2/usage/tweets``, and media.
* **includes**: X does not say whether expanded resources (authors, referenced posts) are
  billed. The emulator does not bill them (the bill is the lower bound) and counts them apart
  (``includes``: posts and users in ``includes`` not already charged or counted that day, and
  what they would cost at the post and user prices), so a client can show a range.
* A truncated answer (``--fault-truncate``) was served: it is billed (X bills what it sends; the
  client's retry the same day is deduplicated and costs nothing more).

Amounts are kept in integer micro-dollars, so the bill is exact (to the cent and below).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

DAY_S = 86_400
#: USD per resource (X_API_2026.md §2), the emulator's defaults.
PRICES: dict[str, str] = {"posts": "0.005", "users": "0.010", "follows": "0.010", "owned": "0.001"}
KINDS = tuple(PRICES)
#: What ``data`` of an endpoint's answer holds: (resource for deduplication, price kind).
ENDPOINT_RESOURCES: dict[str, tuple[str, str]] = {
    "users/tweets": ("post", "posts"),
    "users/by/username": ("user", "users"),
    "users/me": ("user", "users"),
    "users/followers": ("follow", "follows"),
    "users/following": ("follow", "follows"),
}
#: The endpoints whose reads are Owned Reads on the app owner's own ``:id``.
OWNED_ENDPOINTS = frozenset(("users/tweets", "users/followers", "users/following"))
MICRO = 1_000_000


def to_micro(value: Any, name: str) -> int:
    """A USD amount (a JSON number or a decimal string, 0 or more, at most 6 decimals) as
    micro-dollars; ValueError otherwise."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError(f"{name} must be a number of USD")
    try:
        amount = Decimal(str(value))
    except ArithmeticError:
        raise ValueError(f"{name} must be a number of USD") from None
    if not amount.is_finite() or amount < 0:
        raise ValueError(f"{name} must be 0 or more")
    micro = amount * MICRO
    if micro != micro.to_integral_value():
        raise ValueError(f"{name} has more than 6 decimals")
    return int(micro)


def usd(micro: int) -> float:
    """Micro-dollars as a JSON number of USD (exact to the micro-dollar)."""
    return float(Decimal(micro) / MICRO)


def cents(micro: int) -> str:
    """Micro-dollars rounded to the cent, as X shows a balance: ``"10.01"``."""
    return str((Decimal(micro) / MICRO).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def checked_prices(prices: Any, current: dict[str, int]) -> dict[str, int]:
    """``current`` (micro-dollars per kind) with ``prices`` (``{kind: USD}``, some or all) set;
    ValueError for an unknown kind or a bad amount."""
    if not isinstance(prices, dict):
        raise ValueError("prices must be an object of {kind: USD}")
    unknown = set(prices) - set(KINDS)
    if unknown:
        raise ValueError(f"unknown price kinds: {', '.join(sorted(unknown))} "
                         f"(known: {', '.join(KINDS)})")
    return {**current, **{k: to_micro(v, f"prices.{k}") for k, v in prices.items()}}


@dataclass
class Charge:
    """What one answer costs: per price kind, the resources charged and micro-dollars."""

    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    micro: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    keys: list[tuple[str, str]] = field(default_factory=list)
    included: dict[str, int] = field(default_factory=lambda: {"posts": 0, "users": 0})
    included_keys: list[tuple[str, str]] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.micro.values())


class Billing:
    """The bill since start (or the last reset) and the day's deduplication memory."""

    def __init__(self, prices: dict[str, Any] | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.prices = checked_prices(prices or {}, {k: to_micro(v, k) for k, v in PRICES.items()})
        self.clock = clock
        self.offset_days = 0
        self.day = self.today()
        self.seen: set[tuple[str, str]] = set()  # (resource, id) charged today
        self.seen_included: set[tuple[str, str]] = set()  # counted today in includes
        self.counts = dict.fromkeys(KINDS, 0)
        self.micro = dict.fromkeys(KINDS, 0)
        self.included = {"posts": 0, "users": 0}
        self.included_micro = 0
        self.requests = 0  # answers billed (something charged)

    # -- the clock ----------------------------------------------------------------------------

    def now(self) -> float:
        return self.clock() + self.offset_days * DAY_S

    def today(self) -> str:
        """The billing clock's UTC date, ``YYYY-MM-DD``."""
        return datetime.fromtimestamp(self.now(), tz=UTC).strftime("%Y-%m-%d")

    def _roll(self) -> None:
        day = self.today()
        if day != self.day:
            self.day = day
            self.seen.clear()
            self.seen_included.clear()

    # -- charging -----------------------------------------------------------------------------

    def quote(self, endpoint: str, payload: Any, owned: bool) -> Charge:
        """What serving ``payload`` (a 200 answer of ``endpoint``) would cost now, without
        charging it."""
        self._roll()
        charge = Charge()
        if endpoint not in ENDPOINT_RESOURCES or not isinstance(payload, dict):
            return charge
        resource, kind = ENDPOINT_RESOURCES[endpoint]
        if owned and endpoint in OWNED_ENDPOINTS:
            kind = "owned"
        data = payload.get("data")
        items = data if isinstance(data, list) else [data] if isinstance(data, dict) else []
        fresh: set[tuple[str, str]] = set()
        for item in items:
            key = (resource, str(item.get("id")))
            if key in self.seen or key in fresh:
                continue
            fresh.add(key)
            charge.keys.append(key)
            charge.counts[kind] += 1
            charge.micro[kind] += self.prices[kind]
        includes = payload.get("includes")
        if isinstance(includes, dict):
            for name, res, kind_in in (("tweets", "post", "posts"), ("users", "user", "users")):
                for item in includes.get(name) or ():
                    key = (res, str(item.get("id")))
                    if key in self.seen or key in fresh or key in self.seen_included:
                        continue
                    fresh.add(key)
                    charge.included_keys.append(key)
                    charge.included[kind_in] += 1
        return charge

    def commit(self, charge: Charge) -> None:
        """Charges what :meth:`quote` found (the answer was served)."""
        self.seen.update(charge.keys)
        self.seen_included.update(charge.included_keys)
        for kind in KINDS:
            self.counts[kind] += charge.counts[kind]
            self.micro[kind] += charge.micro[kind]
        for kind_in, n in charge.included.items():
            self.included[kind_in] += n
            self.included_micro += n * self.prices[kind_in]
        if charge.total:
            self.requests += 1

    # -- control ------------------------------------------------------------------------------

    def update(self, body: dict[str, Any]) -> None:
        """``POST /_emulator/billing``: ``reset`` (true: the bill to zero and the day's
        deduplication forgotten), ``forget_day`` (true: the day's deduplication only),
        ``prices`` (``{kind: USD}``, some or all), ``advance_days`` (a count: the billing clock
        moves on that many days). Validated first: a bad body changes nothing."""
        allowed = {"reset", "forget_day", "prices", "advance_days"}
        unknown = set(body) - allowed
        if unknown:
            raise ValueError(f"unknown keys: {', '.join(sorted(unknown))}")
        for flag in ("reset", "forget_day"):
            if flag in body and type(body[flag]) is not bool:
                raise ValueError(f"{flag} must be true or false")
        advance = body.get("advance_days", 0)
        if type(advance) is not int or advance < 0:
            raise ValueError("advance_days must be a count (0 or more)")
        prices = checked_prices(body.get("prices", {}), self.prices)
        self.prices = prices
        if body.get("reset"):
            self.counts = dict.fromkeys(KINDS, 0)
            self.micro = dict.fromkeys(KINDS, 0)
            self.included = {"posts": 0, "users": 0}
            self.included_micro = 0
            self.requests = 0
        if body.get("reset") or body.get("forget_day"):
            self.seen.clear()
            self.seen_included.clear()
        self.offset_days += advance
        self._roll()

    def describe(self) -> dict[str, Any]:
        """``GET /_emulator/bill``."""
        self._roll()
        total = sum(self.micro.values())
        return {
            "total_usd": usd(total),
            "total_micro_usd": total,
            "total_cents": cents(total),
            "kinds": {k: {"count": self.counts[k], "usd": usd(self.micro[k]),
                          "price_usd": usd(self.prices[k])} for k in KINDS},
            "includes": {**self.included, "usd": usd(self.included_micro),
                         "upper_bound_usd": usd(total + self.included_micro)},
            "billed_requests": self.requests,
            "day": self.day,
            "advanced_days": self.offset_days,
            "resources_today": len(self.seen),
        }
