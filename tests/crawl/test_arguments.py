"""The spider's arguments are validated before any request (PRODUCT.md §1)."""

from __future__ import annotations

import pytest

from twitter_crawler.spiders.arguments import PARTS, BadArgument, parse_arguments


def test_defaults() -> None:
    args = parse_arguments("@jack")
    assert args.handle == "jack"
    assert args.parts == frozenset(PARTS)
    assert args.limit is None
    assert args.following_tweets == 5


def test_values_are_parsed() -> None:
    args = parse_arguments("a_b", "user,timeline", "10", "0")
    assert args.parts == {"user", "timeline"}
    assert args.limit == 10
    assert args.following_tweets == 0


@pytest.mark.parametrize(
    ("kwargs", "named"),
    [
        ({"handle": None}, "handle is required"),
        ({"handle": "way_too_long_handle"}, "handle="),
        ({"handle": "bad-handle"}, "handle="),
        ({"handle": "ok", "parts": "user,likes"}, "unknown part likes"),
        ({"handle": "ok", "limit": "-1"}, "limit="),
        ({"handle": "ok", "limit": "ten"}, "limit="),
        ({"handle": "ok", "following_tweets": "-5"}, "following_tweets="),
    ],
)
def test_bad_arguments_name_the_argument(kwargs: dict[str, str], named: str) -> None:
    with pytest.raises(BadArgument, match=named):
        parse_arguments(**kwargs)
