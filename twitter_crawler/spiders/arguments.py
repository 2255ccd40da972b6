"""Validation of the ``twitter`` spider's arguments (PRODUCT.md §1), before any request is sent."""

from __future__ import annotations

import re
from dataclasses import dataclass

PARTS = ("user", "followers", "following", "timeline", "following_timelines")
#: The spider arguments parse_arguments() takes.
ARGUMENTS = ("handle", "parts", "limit", "following_tweets")
HANDLE_RE = re.compile(r"^[A-Za-z0-9_]{1,15}$")


class BadArgument(ValueError):
    """A spider argument is invalid; the message names it and says what is allowed."""


@dataclass(frozen=True)
class Arguments:
    handle: str
    parts: frozenset[str]
    limit: int | None
    following_tweets: int


def _number(name: str, value: object, default: int | None) -> int | None:
    if value is None or value == "":
        return default
    try:
        number = int(str(value))
    except ValueError:
        raise BadArgument(f"{name}={value!r} is not a whole number") from None
    if number < 0:
        raise BadArgument(f"{name}={value!r} must be 0 or more")
    return number


def parse_arguments(
    handle: object = None,
    parts: object = None,
    limit: object = None,
    following_tweets: object = None,
) -> Arguments:
    if handle is None or handle == "":
        raise BadArgument("handle is required: scrapy crawl twitter -a handle=NAME")
    name = str(handle).removeprefix("@")
    if not HANDLE_RE.match(name):
        raise BadArgument(
            f"handle={handle!r} is not a Twitter handle (1 to 15 letters, digits or _)"
        )
    if parts is None or parts == "":
        chosen = frozenset(PARTS)
    else:
        chosen = frozenset(p.strip() for p in str(parts).split(",") if p.strip())
        unknown = sorted(chosen - set(PARTS))
        if unknown or not chosen:
            raise BadArgument(
                f"parts={parts!r}: unknown part {', '.join(unknown) or '(none given)'}; "
                f"choose from {','.join(PARTS)}"
            )
    return Arguments(
        handle=name,
        parts=chosen,
        limit=_number("limit", limit, None),
        following_tweets=_number("following_tweets", following_tweets, 5) or 0,
    )
