"""Post usage and what X answers when it is spent: the monthly (or daily) usage cap, and other
problems that no waiting cures (``../shared/docs/X_API_2026.md`` §3, §4).

* ``--usage-cap N``: the posts in ``data`` of the /2 tweet answers (``users/tweets``) are counted
  as X bills them (``served``). While ``served < N`` a request is answered as usual, whole: the
  answer that crosses the cap is served and counted (X bills it); from then on every request
  to a /2 data endpoint (``users/by/username``, ``users/me``, ``users/followers``,
  ``users/following``, ``users/tweets``; not ``usage/tweets``) is refused with X's usage-cap answer, HTTP 429
  ``application/problem+json``, shaped like the recorded one (§4), with ``x-rate-limit-*``
  headers that still show budget. ``--usage-cap 0`` refuses the first request.
* What does not count: v1.1 (X closed its reads to self-serve developers; the cap is a v2
  matter here, and /1.1 is never refused), users in ``data`` or ``includes`` (a cap is on
  posts), posts in ``includes`` (X does not say; the lower bound), refused or failed answers.
  This counter is not deduplicated: a post served twice counts twice (the bill of
  ``billing.py`` is).
* ``problem``: any other 4xx problem answered to every /2 data request instead (``--credits-
  exhausted`` sets X's refusal for lack of credits, whose shape X does not document: 402,
  ``CreditsDepleted``; see :data:`CREDITS_EXHAUSTED`).

* ``--credits USD``: a prepaid balance (pay-per-use). An answer is billed (``billing.py``) and
  its cost taken from the balance; a /2 data request whose answer would cost more than what is
  left is refused with the same 402 ``CreditsDepleted`` answer (``credits_exhausted``), and
  nothing is charged. An answer that costs nothing (empty, deduplicated, an error) is served
  even on a zero balance. The balance never goes negative.
* ``GET /2/usage/tweets`` (:func:`usage_tweets`): what X's Usage API shows of this counter:
  ``project_usage`` is ``served`` (posts read this billing cycle), ``project_cap`` the cap (or
  X's pay-per-use default, 3,000,000), and the posts served per day of the billing clock.

``GET /_emulator/usage`` shows the state; ``POST /_emulator/usage`` changes it at run time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from twitter_emulator.billing import to_micro, usd
from twitter_emulator.v2 import PROBLEMS, Params, check_params, field_set, invalid_request

PERIODS = ("Monthly", "Daily")
#: The product name of the recorded answer's ``product_name`` (a pay-per-use app's is similar).
PRODUCT_NAME = "standard-basic"
#: The account id the capped answer names (the emulator's developer account, not a user).
ACCOUNT_ID = "1700000000000000000"
#: A refusal for lack of credits. X does not document it (X_API_2026.md §1, §4); a user's log
#: shows HTTP 402. The body is X's problem shape with a type no documentation lists, which is
#: what a client meets as "an unknown problem type on a 4xx".
CREDITS_EXHAUSTED: dict[str, Any] = {
    "status": 402,
    "title": "CreditsDepleted",
    "detail": "Your enrolled account does not have any credits to fulfill this request.",
    "type": PROBLEMS + "credits",
}
#: The endpoints whose answers' ``data`` are posts.
POST_ENDPOINTS = frozenset(("users/tweets",))
#: X's monthly post cap of pay-per-use apps (X_API_2026.md §3): ``project_cap`` without a cap.
DEFAULT_PROJECT_CAP = 3_000_000
#: The emulator's project and app, as ``/2/usage/tweets`` names them (int32, as the OpenAPI
#: description types ``daily_project_usage.project_id``).
PROJECT_ID = 1700000001
CLIENT_APP_ID = "1700000002"
USAGE_FIELDS = frozenset(("cap_reset_day", "daily_client_app_usage", "daily_project_usage",
                          "project_cap", "project_id", "project_usage"))
#: What ``/2/usage/tweets`` sends without ``usage.fields`` (as X's documented example).
DEFAULT_USAGE_FIELDS = ("cap_reset_day", "project_cap", "project_id", "project_usage")


def check_problem(value: Any) -> dict[str, Any] | None:
    """A problem to answer (``{"status": 4xx, "type", "title", "detail", ...}``) or None; raises
    ValueError for anything else."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ValueError("problem must be an object or null")
    status = value.get("status")
    if type(status) is not int or not 400 <= status < 500 or status in (401, 429):
        raise ValueError("problem.status must be a 4xx other than 401 (credentials) and 429 "
                         "(rate limits and usage caps have their own options)")
    for key in ("type", "title", "detail"):
        if not isinstance(value.get(key), str) or not value[key]:
            raise ValueError(f"problem.{key} must be a non-empty string")
    return dict(value)


@dataclass
class Usage:
    """Posts served so far, the cap, and the problem answered instead of data (if any)."""

    cap: int | None = None
    period: str = "Monthly"
    served: int = 0
    problem: dict[str, Any] | None = None
    refused: int = 0  # requests answered with the cap, the problem or for credits
    credits: int | None = None  # the balance in micro-dollars (``--credits``); None: unlimited
    daily: dict[str, int] = field(default_factory=dict)  # posts served per billing day
    cap_reset_day: int = 1  # the day of the month the billing cycle starts again

    def __post_init__(self) -> None:
        if self.period not in PERIODS:
            raise ValueError(f"period must be one of {', '.join(PERIODS)}, not {self.period!r}")
        if self.cap is not None and self.cap < 0:
            raise ValueError("cap must not be negative")
        self.problem = check_problem(self.problem)

    def refusal(self) -> tuple[int, dict[str, Any]] | None:
        """(status, problem body) of the answer to a /2 data request now, or None to serve it."""
        if self.problem is not None:
            self.refused += 1
            return self.problem["status"], {k: v for k, v in self.problem.items() if k != "status"}
        if self.cap is not None and self.served >= self.cap:
            self.refused += 1
            return 429, self.capped_body()
        return None

    def afford(self, cost: int) -> tuple[int, dict[str, Any]] | None:
        """The 402 refusal when an answer costing ``cost`` micro-dollars exceeds the balance."""
        if self.credits is None or cost <= self.credits:
            return None
        self.refused += 1
        return CREDITS_EXHAUSTED["status"], {k: v for k, v in CREDITS_EXHAUSTED.items() if k != "status"}

    def pay(self, cost: int) -> None:
        if self.credits is not None:
            self.credits = max(0, self.credits - cost)

    def capped_body(self) -> dict[str, Any]:
        """X's answer, key for key as recorded (X_API_2026.md §4); ``period`` as set."""
        return {
            "account_id": ACCOUNT_ID,
            "product_name": PRODUCT_NAME,
            "title": "UsageCapExceeded",
            "period": self.period,
            "scope": "Product",
            "detail": f"Usage cap exceeded: {self.period} product cap",
            "type": PROBLEMS + "usage-capped",
        }

    def count(self, endpoint: str, status: int, payload: Any, day: str = "") -> int:
        """Counts the posts of a served answer (on the billing ``day``); returns how many."""
        if endpoint not in POST_ENDPOINTS or status != 200 or not isinstance(payload, dict):
            return 0
        data = payload.get("data")
        n = len(data) if isinstance(data, list) else 0
        self.served += n
        if day and n:
            self.daily[day] = self.daily.get(day, 0) + n
        return n

    def update(self, body: dict[str, Any]) -> None:
        """``POST /_emulator/usage``: ``cap`` (a count or null: no cap), ``period``, ``served``
        (set the count, e.g. 0 for a new billing cycle), ``problem`` (an object or null),
        ``credits_exhausted`` (true: the credits refusal; false: none). Validated first: a bad
        body changes nothing."""
        allowed = {"cap", "period", "served", "problem", "credits_exhausted", "credits"}
        unknown = set(body) - allowed
        if unknown:
            raise ValueError(f"unknown keys: {', '.join(sorted(unknown))}")
        new = {"cap": self.cap, "period": self.period, "served": self.served, "problem": self.problem,
               "credits": self.credits}
        if "cap" in body:
            cap = body["cap"]
            if cap is not None and (type(cap) is not int or cap < 0):
                raise ValueError("cap must be a count (0 or more) or null")
            new["cap"] = cap
        if "period" in body:
            if body["period"] not in PERIODS:
                raise ValueError(f"period must be one of {', '.join(PERIODS)}")
            new["period"] = body["period"]
        if "served" in body:
            if type(body["served"]) is not int or body["served"] < 0:
                raise ValueError("served must be a count (0 or more)")
            new["served"] = body["served"]
        if "problem" in body:
            new["problem"] = check_problem(body["problem"])
        if "credits_exhausted" in body:
            if type(body["credits_exhausted"]) is not bool:
                raise ValueError("credits_exhausted must be true or false")
            new["problem"] = dict(CREDITS_EXHAUSTED) if body["credits_exhausted"] else None
        if "credits" in body:
            new["credits"] = None if body["credits"] is None else to_micro(body["credits"], "credits")
        if "served" in body and body["served"] == 0:
            self.daily = {}  # a new billing cycle
        self.cap, self.period, self.served, self.problem, self.credits = (
            new["cap"], new["period"], new["served"], new["problem"], new["credits"])

    def describe(self) -> dict[str, Any]:
        return {"cap": self.cap, "period": self.period, "served": self.served,
                "capped": self.cap is not None and self.served >= self.cap,
                "problem": self.problem, "refused": self.refused,
                "credits": None if self.credits is None else usd(self.credits)}


def usage_tweets(usage: Usage, params: Params, today: str) -> dict[str, Any]:
    """``GET /2/usage/tweets``: ``days`` (1-90, default 7) and ``usage.fields`` (default: the
    four of X's example; ``daily_project_usage`` and ``daily_client_app_usage`` on request).
    Numbers are integers, as X's OpenAPI description types them (X's documentation example
    sends ``project_cap`` and ``project_usage`` as strings). Raises V2Error 400 for a bad
    parameter."""
    check_params("usage/tweets", params)
    raw_days = params.get("days", "7")
    if not raw_days.isdigit() or not 1 <= int(raw_days) <= 90:
        raise invalid_request("days", raw_days,
                              f"The `days` query parameter value [{raw_days}] is not between 1 and 90")
    fields = field_set(params, "usage.fields", USAGE_FIELDS) or frozenset(DEFAULT_USAGE_FIELDS)
    last = date.fromisoformat(today)
    dates = [(last - timedelta(days=i)).isoformat() for i in range(int(raw_days) - 1, -1, -1)]
    series = [{"date": datetime.fromisoformat(d).replace(tzinfo=UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
               "usage": usage.daily.get(d, 0)} for d in dates]
    full: dict[str, Any] = {
        "cap_reset_day": usage.cap_reset_day,
        "daily_client_app_usage": [{"client_app_id": CLIENT_APP_ID, "usage": series,
                                    "usage_result_count": len(series)}],
        "daily_project_usage": {"project_id": PROJECT_ID, "usage": series},
        "project_cap": DEFAULT_PROJECT_CAP if usage.cap is None else usage.cap,
        "project_id": str(PROJECT_ID),
        "project_usage": usage.served,
    }
    return {"data": {k: v for k, v in full.items() if k in fields}}
