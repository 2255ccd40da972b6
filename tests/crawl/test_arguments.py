"""The spider's arguments are validated before any request (PRODUCT.md §1)."""

from __future__ import annotations

from pathlib import Path

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


def test_several_handles_once_each_in_order() -> None:
    args = parse_arguments(handles="alice, @Bob,ALICE,carol")
    assert args.handles == ("alice", "Bob", "carol")
    assert args.handle == "alice"


def test_a_handles_file_skips_blank_lines_and_comments(tmp_path: Path) -> None:
    listed = tmp_path / "handles.txt"
    listed.write_text("# researchers\n@alice\n\nbob   # the second\n  carol\nBOB\n", encoding="utf-8")
    assert parse_arguments(handles_file=str(listed)).handles == ("alice", "bob", "carol")


@pytest.mark.parametrize(("text", "named"), [
    ("alice\nnot a handle\n", r"line 2: 'not a handle' is not a Twitter handle"),
    ("# nothing\n\n", "lists no handle"),
    (b"\xff\xfe\x00", "is not a UTF-8 text file"),
])
def test_a_bad_handles_file_names_what_is_wrong(tmp_path: Path, text: str | bytes, named: str) -> None:
    listed = tmp_path / "handles.txt"
    if isinstance(text, bytes):
        listed.write_bytes(text)
    else:
        listed.write_text(text, encoding="utf-8")
    with pytest.raises(BadArgument, match=named):
        parse_arguments(handles_file=str(listed))


def test_a_handles_file_that_is_a_directory(tmp_path: Path) -> None:
    with pytest.raises(BadArgument, match="is a directory"):
        parse_arguments(handles_file=str(tmp_path))


@pytest.mark.parametrize("kwargs", [{"handle": "a", "handles": "b,c"},
                                    {"handles": "a", "handles_file": "x.txt"}])
def test_one_way_to_name_the_accounts(kwargs: dict[str, str]) -> None:
    with pytest.raises(BadArgument, match="give one of handle, handles and handles_file"):
        parse_arguments(**kwargs)
