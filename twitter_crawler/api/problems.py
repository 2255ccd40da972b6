"""X's problem answers (RFC 7807), and which of them mean "stop", over both API versions.

X's API answers errors as RFC 7807 "problem" JSON (``title``, ``detail``, ``type``,
``status``) with an HTTP status, and also inside 200 answers, as ``errors[]`` beside (or instead
of) ``data``: an unknown or suspended username, a protected account's tweets
(``not-authorized-for-resource``). ``check_error`` of API v2 raises :class:`ProblemError` for every
non-2xx answer; 2xx answers never raise there: their ``errors`` are returned by the parsers as
``page.errors`` (:class:`Problem`), and ``page.error`` turns them into a :class:`ProblemError`
when the page has no data at all. v2's ``parse_user_response`` raises it (there is no user to
return). Each problem has a ``kind`` (a code-like name) and, where one exists, the v1.1 error code
with the same meaning in ``ProblemError.codes``, so v1.1 error handling applies unchanged:

=============================================  ============================  ======  ======
answer                                         kind                          status  codes
=============================================  ============================  ======  ======
401 (any authentication failure)               ``bad-credentials``           401     32
403 ``client-forbidden`` (app not enrolled)    ``access-level``              403     453
403 ``unsupported-authentication``             ``unsupported-authentication`` 403    215
429 ``about:blank``                            ``rate-limited``              429     88
429 ``usage-capped`` (monthly cap)             ``usage-capped``              429     —
200 ``resource-not-found`` user                ``user-not-found``            200     50
200 ``resource-not-found`` "User has been      ``user-suspended``            200     63
suspended" (title ``Forbidden``)
200 ``not-authorized-for-resource``            ``not-authorized``            200     179
    (protected account)
200 ``resource-not-found`` tweet/media         ``resource-not-found``        200     —
400 ``invalid-request``                        ``invalid-request``           400     —
404                                            ``not-found``                 404     34
5xx                                            ``server-error``              5xx     —
=============================================  ============================  ======  ======

A v1.1-shaped body (``{"errors": [{"code", "message"}]}``), which some v2 answers still use,
keeps its codes and gets the kind of those codes.

"Stop", not "wait" (X_API_2026.md §4): :func:`stop_problem` picks out the 4xx answers that no
waiting cures: a usage cap (``usage-capped``, its ``period`` and ``scope`` kept on the
:class:`Problem`), a 402, and any problem ``type`` the table does not know (credits exhausted
has no documented shape). The rate-limit middleware never parks them; the error middleware
closes the crawl on them.

Both versions are read this way where it matters for the whole crawl: an answer that means
"stop" (:func:`stop_problem_of`) can come on any request, whichever version the crawl uses, so
the rate-limit and the error middleware read every 4xx with it. Pure functions, no Scrapy.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from twitter_crawler.api.common import as_int as _int, as_list as _l, as_str as _s, text_excerpt
from twitter_crawler.exceptions import TwitterAPIError

__all__ = [
    "KNOWN_PROBLEMS",
    "RATE_LIMIT_PROBLEMS",
    "V1_CODES",
    "Problem",
    "ProblemError",
    "error_from_body",
    "problems_of",
    "stop_problem",
    "stop_problem_of",
]

#: The v1.1 error code of each kind, where one exists (see the module docstring).
V1_CODES: dict[str, tuple[int, ...]] = {
    "bad-credentials": (32,),
    "access-level": (453,),
    "unsupported-authentication": (215,),
    "rate-limited": (88,),
    "user-not-found": (50,),
    "user-suspended": (63,),
    "not-authorized": (179,),
    "not-found": (34,),
}
_KIND_OF_CODE = {
    32: "bad-credentials", 89: "bad-credentials", 135: "bad-credentials", 215: "bad-credentials",
    453: "access-level", 88: "rate-limited", 50: "user-not-found", 63: "user-suspended",
    34: "not-found", 179: "not-authorized",
}  # fmt: skip


@dataclass(slots=True)
class Problem:
    """One v2 problem: a whole error answer, or one entry of ``errors[]`` in a 200.

    ``type`` is the full URI (``https://api.twitter.com/2/problems/resource-not-found``) or
    ``about:blank``; ``problem`` its last part; ``kind`` the code-like outcome name of the table
    in the module docstring. ``resource_*``, ``parameter``, ``value`` and ``section`` are as sent
    (``None`` when absent).
    """

    kind: str
    problem: str
    type: str | None = None
    title: str | None = None
    detail: str | None = None
    status: int | None = None
    resource_type: str | None = None
    resource_id: str | None = None
    parameter: str | None = None
    value: str | None = None
    section: str | None = None
    reason: str | None = None
    code: int | None = None
    period: str | None = None  # usage-capped: ``Daily`` or ``Monthly``
    scope: str | None = None  # usage-capped: ``Account`` or ``Product``

    @property
    def message(self) -> str:
        return self.detail or self.title or self.reason or self.kind

    @property
    def codes(self) -> tuple[int, ...]:
        if self.code is not None:
            return (self.code,)
        return V1_CODES.get(self.kind, ())


class ProblemError(TwitterAPIError):
    """A :class:`~twitter_crawler.exceptions.TwitterAPIError` from a v2 answer.

    ``status`` and ``codes`` (the v1.1 codes of the same meaning) as the base class; ``kind``
    the outcome name of the first problem; ``problems`` all of them."""

    def __init__(
        self, status: int, problems: list[Problem] | None = None, message: str = ""
    ) -> None:
        problems = problems or []
        codes: list[int] = []
        for p in problems:
            for code in p.codes:
                if code not in codes:
                    codes.append(code)
        kind = problems[0].kind if problems else _kind_of_status(status)
        if not codes:
            codes = list(V1_CODES.get(kind, ()))
        text = message or "; ".join(dict.fromkeys(p.message for p in problems if p.message))
        super().__init__(status, tuple(codes), text)
        self.problems = problems
        self.kind = kind


def _kind_of_status(status: int | None) -> str:
    if status == 401:
        return "bad-credentials"
    if status == 429:
        return "rate-limited"
    if status == 404:
        return "not-found"
    if status == 403:
        return "forbidden"
    if status == 400:
        return "invalid-request"
    if status is not None and status >= 500:
        return "server-error"
    return "error"


_SUFFIX_KIND = {
    "not-authorized-for-resource": "not-authorized",
    "client-forbidden": "access-level",
    "unsupported-authentication": "unsupported-authentication",
    "usage-capped": "usage-capped",
    "invalid-request": "invalid-request",
    "resource-unavailable": "unavailable",
    "not-authorized-for-field": "not-authorized-for-field",
    "disallowed-resource": "forbidden",
}


def _problem(obj: dict[str, Any], status: int | None) -> Problem:
    """A :class:`Problem` from a problem object (or a v1.1-style ``{code, message}``)."""
    type_uri = _s(obj.get("type"))
    suffix = "about:blank"
    if type_uri and type_uri != "about:blank":
        suffix = type_uri.rstrip("/").rsplit("/", 1)[-1]
    own_status = _int(obj.get("status"))
    effective = own_status if own_status is not None else status
    title, detail = _s(obj.get("title")), _s(obj.get("detail"))
    resource_type = _s(obj.get("resource_type"))
    code = _int(obj.get("code"))
    if code is not None:
        kind = _KIND_OF_CODE.get(code, _kind_of_status(effective))
        detail = detail or _s(obj.get("message"))
    elif suffix == "resource-not-found":
        suspended = (detail or "").startswith("User has been suspended") or title == "Forbidden"
        if resource_type == "user" or suspended:
            kind = "user-suspended" if suspended else "user-not-found"
        else:
            kind = "resource-not-found"
    elif suffix in _SUFFIX_KIND:
        kind = _SUFFIX_KIND[suffix]
    else:
        kind = _kind_of_status(effective)
    if code is None and suffix == "about:blank" and not (title or detail):
        detail = _s(obj.get("message"))
    return Problem(
        kind=kind, problem=suffix, type=type_uri, title=title, detail=detail, status=own_status,
        resource_type=resource_type, resource_id=_str_id(obj.get("resource_id")),
        parameter=_s(obj.get("parameter")), value=_str_id(obj.get("value")),
        section=_s(obj.get("section")), reason=_s(obj.get("reason")), code=code,
        period=_s(obj.get("period")), scope=_s(obj.get("scope")),
    )


def problems_of(payload: Any, status: int | None = None) -> list[Problem]:
    """The problems of a decoded body, ``[]`` when there is none.

    * a top-level problem (``title``/``detail``/``type``, as in every non-2xx v2 answer) is one
      :class:`Problem`; the messages of its ``errors[]`` details (an ``invalid-request`` names
      each bad parameter there) are appended to its ``detail``;
    * otherwise each entry of ``errors[]``: the partial errors of a 200 answer, or the
      ``{"code", "message"}`` entries of a v1.1-style body."""
    if type(payload) is not dict:
        return []
    errors: list[Any] = [e for e in _l(payload.get("errors")) if type(e) is dict or type(e) is str]
    if any(type(payload.get(k)) is str for k in ("title", "detail", "type")):
        main = _problem(payload, status)
        extra = [e if type(e) is str else _s(e.get("message")) or _s(e.get("detail"))
                 for e in errors]
        extra = [m for m in extra if m and m != main.detail]
        if extra:
            main.detail = " ".join(filter(None, [main.detail, *extra]))
        return [main]
    out: list[Problem] = []
    for error in errors:
        if type(error) is dict:
            out.append(_problem(error, status))
        else:
            out.append(Problem(kind=_kind_of_status(status), problem="about:blank", detail=error))
    return out


#: Problem types of a 4xx answer that mean "wait": the rate-limit middleware parks them.
RATE_LIMIT_PROBLEMS = frozenset(("about:blank", "rate-limit-exceeded"))
#: Problem types of a 4xx answer that the crawl handles by name (a credential, an access level,
#: one bad request or resource): not a reason to stop everything. Any other type on a 4xx
#: (X_API_2026.md §4: a usage cap, a refusal for lack of credits, whose shape is undocumented)
#: is one waiting cannot cure.
KNOWN_PROBLEMS = RATE_LIMIT_PROBLEMS | frozenset((
    "invalid-request", "resource-not-found", "not-authorized-for-resource", "client-forbidden",
    "unsupported-authentication", "resource-unavailable", "not-authorized-for-field",
    "disallowed-resource",
))  # fmt: skip


def stop_problem(status: int, problems: list[Problem]) -> Problem | None:
    """The problem of an answer that means "stop", not "wait" (X_API_2026.md §4), else None.

    A usage cap (``usage-capped``, with ``period`` and ``scope``), a 402 (payment: credits), or
    any problem type not in :data:`KNOWN_PROBLEMS` on a 4xx other than 401 (401 is always the
    credentials). Rate limits (``about:blank``, ``rate-limit-exceeded``, v1.1 code 88), a 429
    without a readable problem, v1.1-shaped ``{"errors": [{"code"}]}`` bodies and the 200
    answers' ``errors`` are never a stop: waiting, or the per-resource rules, apply to them."""
    if not 400 <= status < 500 or status == 401:
        return None
    main = problems[0] if len(problems) == 1 and problems[0].code is None else None
    if main is not None and main.problem == "usage-capped":
        return main
    if status == 402:
        return main or Problem(kind="payment-required", problem="about:blank", status=402,
                               title="Payment Required")
    if main is None or main.type is None or main.problem in KNOWN_PROBLEMS:
        return None
    return main


def stop_problem_of(status: int, body: bytes) -> Problem | None:
    """:func:`stop_problem` of a raw answer (for components that see bodies, not errors)."""
    if not 400 <= status < 500 or status == 401:
        return None
    error = error_from_body(status, body)
    problem = stop_problem(status, error.problems)
    if problem is not None and problem.detail is None and not error.problems:
        problem.detail = error.message or None  # a 402 whose body is no problem: say what it was
    return problem


def error_from_body(status: int, body: bytes | str) -> ProblemError:
    try:
        payload = json.loads(body)
    except (ValueError, TypeError):
        return ProblemError(status, [], text_excerpt(body))
    problems = problems_of(payload, status)
    if not problems:
        text = payload if type(payload) is str else ""
        return ProblemError(status, [], text)
    return ProblemError(status, problems)



def _str_id(value: Any) -> str | None:
    if type(value) is str:
        return value
    if type(value) is int:
        return str(value)
    return None
