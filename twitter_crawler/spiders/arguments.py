"""Validation of the ``twitter`` spider's arguments (PRODUCT.md §1), before any request is sent.

The accounts to import: ``handle=NAME`` (one), ``handles=a,b,c`` or ``handles_file=PATH`` (one
handle per line; blank lines and ``#`` comments ignored), exactly one of the three. A handle is
listed once however often it is given (Twitter's handles ignore case).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

PARTS = ("user", "followers", "following", "timeline", "following_timelines")
#: The spider arguments parse_arguments() takes.
ARGUMENTS = ("handle", "handles", "handles_file", "parts", "limit", "following_tweets")
#: The arguments of ``scrapy plan``: one account.
PLAN_ARGUMENTS = ("handle", "parts", "limit", "following_tweets")
HANDLE_RE = re.compile(r"^[A-Za-z0-9_]{1,15}$")
#: A handles file larger than this is not a list of handles (a mistaken path).
HANDLES_FILE_MAX_BYTES = 10_000_000


class BadArgument(ValueError):
    """A spider argument is invalid; the message names it and says what is allowed."""


@dataclass(frozen=True)
class Arguments:
    handles: tuple[str, ...]
    parts: frozenset[str]
    limit: int | None
    following_tweets: int

    @property
    def handle(self) -> str:
        """The first account (the only one of ``handle=``)."""
        return self.handles[0]


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


def _handle(value: str, label: str) -> str:
    """``value`` without its ``@``; ``label`` names it in the error (``handle='x!'``)."""
    name = value.strip().removeprefix("@")
    if not HANDLE_RE.match(name):
        raise BadArgument(f"{label} is not a Twitter handle (1 to 15 letters, digits or _)")
    return name


def _unique(names: list[str]) -> tuple[str, ...]:
    seen: set[str] = set()
    out = []
    for name in names:
        if name.lower() not in seen:
            seen.add(name.lower())
            out.append(name)
    return tuple(out)


def _handles_file(path: str) -> tuple[str, ...]:
    where = f"handles_file={path!r}"
    file = Path(path).expanduser()
    try:
        if file.stat().st_size > HANDLES_FILE_MAX_BYTES:
            raise BadArgument(f"{where} is larger than {HANDLES_FILE_MAX_BYTES:,} bytes: not a "
                              "list of handles")
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BadArgument(f"{where}: no such file") from None
    except IsADirectoryError:
        raise BadArgument(f"{where} is a directory, not a file of handles") from None
    except UnicodeDecodeError:
        raise BadArgument(f"{where} is not a UTF-8 text file of handles") from None
    except OSError as exc:
        raise BadArgument(f"{where} cannot be read ({exc.strerror})") from None
    names = []
    for number, line in enumerate(text.splitlines(), 1):
        name = line.split("#", 1)[0].strip()
        if name:
            names.append(_handle(name, f"{where}, line {number}: {name!r}"))
    if not names:
        raise BadArgument(f"{where} lists no handle (one per line; # starts a comment)")
    return _unique(names)


def parse_handles(handle: object = None, handles: object = None,
                  handles_file: object = None) -> tuple[str, ...]:
    """The accounts to import, from exactly one of ``handle``, ``handles`` and ``handles_file``."""
    given = {k: v for k, v in (("handle", handle), ("handles", handles),
                               ("handles_file", handles_file)) if v is not None and v != ""}
    if not given:
        raise BadArgument("handle is required: scrapy crawl twitter -a handle=NAME "
                          "(or -a handles=a,b,c, or -a handles_file=PATH)")
    if len(given) > 1:
        raise BadArgument(f"give one of handle, handles and handles_file, not {' and '.join(given)}")
    if handle is not None and handle != "":
        return (_handle(str(handle), f"handle={handle!r}"),)
    if handles is not None and handles != "":
        names = [n for n in str(handles).split(",") if n.strip()]
        if not names:
            raise BadArgument(f"handles={handles!r} lists no handle (a,b,c)")
        return _unique([_handle(n, f"handles={handles!r}: {n.strip()!r}") for n in names])
    return _handles_file(str(handles_file))


def parse_arguments(
    handle: object = None,
    parts: object = None,
    limit: object = None,
    following_tweets: object = None,
    handles: object = None,
    handles_file: object = None,
) -> Arguments:
    names = parse_handles(handle, handles, handles_file)
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
        handles=names,
        parts=chosen,
        limit=_number("limit", limit, None),
        following_tweets=_number("following_tweets", following_tweets, 5) or 0,
    )


#: The arguments of the ``archive`` spider.
ARCHIVE_ARGUMENTS = ("path",)


def parse_archive_arguments(path: object = None) -> str:
    """The ``archive`` spider's ``path``: required; what it names is checked when it is opened
    (:meth:`twitter_crawler.archive.reader.Archive.open`)."""
    if path is None or str(path).strip() == "":
        raise BadArgument(
            "path is required: scrapy crawl archive -a path=twitter-YYYY-MM-DD-….zip (the ZIP X "
            "sent, or the folder it unpacks to)")
    return str(path)
