"""What X charges for a read: the crawler's one price table, and what an answer holds to be billed.

X bills pay-per-use apps **per resource an answer returns**, not per request
(``../shared/docs/X_API_2026.md`` §2). Prices are USD per resource, kept here in integer
micro-dollars so that sums are exact to the cent:

* ``posts`` $0.005: each post in ``data`` of ``/2/users/:id/tweets``;
* ``users`` $0.010: each user of ``/2/users/by/username/:u`` and ``/2/users/me``;
* ``follows`` $0.010: each user of a ``/2/users/:id/followers`` or ``/following`` page;
* ``owned`` $0.001: an **Owned Read**, a post, follower or following of the three endpoints
  above whose ``:id`` is the authenticated user, when that user owns the developer app.

``TWITTER_PRICES`` overrides some or all (X says its Developer Console is authoritative):
:func:`parse_prices` reads it. Which resources an answer holds is the API contract's to say
(:meth:`~twitter_crawler.api.contract.TwitterApi.billable` and
:meth:`~twitter_crawler.api.contract.TwitterApi.billed_resources`): v1.1 reads are an
Enterprise matter, priced by contract, and are not billed per resource here.

Daily deduplication is per (resource, id) with three resources: ``post``, ``user`` and
``follow`` (X's one "Following/Followers read" row covers both lists).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

MICRO = 1_000_000
#: X's published prices (2026), USD per resource.
DEFAULT_PRICES: dict[str, str] = {
    "posts": "0.005", "users": "0.010", "follows": "0.010", "owned": "0.001",
}
KINDS = tuple(DEFAULT_PRICES)
#: The price kind of each deduplicated resource when it is not an Owned Read.
RESOURCE_KINDS = {"post": "posts", "user": "users", "follow": "follows"}


def to_micro(value: Any) -> int:
    """A USD amount (0 or more, at most 6 decimals) as micro-dollars; ValueError otherwise."""
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise ValueError("not a number of USD")
    try:
        amount = Decimal(str(value).strip().removeprefix("$"))
    except InvalidOperation:
        raise ValueError("not a number of USD") from None
    if not amount.is_finite() or amount < 0:
        raise ValueError("not a number of USD of 0 or more")
    micro = amount * MICRO
    if micro != micro.to_integral_value():
        raise ValueError("more than 6 decimals")
    return int(micro)


def parse_prices(value: Any) -> dict[str, int]:
    """``TWITTER_PRICES``: a dict ``{kind: USD}`` or a comma list ``posts=0.005,owned=0.001``
    (empty: X's prices), some kinds or all; every kind not given keeps X's price. Returns
    micro-dollars per kind; ValueError saying what is allowed."""
    allowed = (f"must be a comma list of KIND=USD with KIND one of {', '.join(KINDS)} "
               "(e.g. posts=0.005,users=0.01), or empty for X's prices")
    pairs: list[tuple[Any, Any]]
    if isinstance(value, dict):
        pairs = list(value.items())
    elif isinstance(value, str):
        pairs = []
        for part in value.split(","):
            if not part.strip():
                continue
            kind, sep, amount = part.partition("=")
            if not sep:
                raise ValueError(allowed)
            pairs.append((kind, amount))
    else:
        raise ValueError(allowed)
    prices = {kind: to_micro(usd) for kind, usd in DEFAULT_PRICES.items()}
    for kind, amount in pairs:
        name = str(kind).strip().lower()
        if name not in prices:
            raise ValueError(f"{allowed}; {kind!s} is not a kind")
        try:
            prices[name] = to_micro(amount)
        except ValueError as exc:
            raise ValueError(f"{allowed}; {name}: {exc}") from None
    return prices


def dollars(micro: int) -> str:
    """Micro-dollars as a person reads them, to the cent: ``$4.12``."""
    amount = (Decimal(micro) / MICRO).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return f"${amount:,}"


@dataclass(frozen=True)
class Billable:
    """What a request's answer may be billed for: ``resource`` (``post``, ``user``, ``follow``)
    at the price ``kind``; ``subject``, the ``:id`` whose reads are Owned Reads when it is the
    app owner's (None: never owned); ``most``, the most resources the answer can hold."""

    endpoint: str
    resource: str
    kind: str
    subject: str | None
    most: int


@dataclass
class Resources:
    """The ids an answer holds: billed (``data``) and, apart, in ``includes`` (X does not say
    whether those are billed): ``included`` maps ``post``/``user`` to ids."""

    ids: list[str] = field(default_factory=list)
    included: dict[str, list[str]] = field(default_factory=lambda: {"post": [], "user": []})
