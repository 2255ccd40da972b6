"""Defensive field access and the conversions every parser shares: the API's (both versions)
and the archive's.

Pure functions, no Scrapy: the archive's reading process (``archive/worker.py``) imports them
without importing Scrapy. They never raise on odd input: what cannot be converted is ``None``.
:mod:`twitter_crawler.api.common` offers them too.
"""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta, timezone
from types import MappingProxyType
from typing import Any

__all__ = ["as_bool", "as_dict", "as_id", "as_int", "as_list", "as_str", "source_name", "to_iso_utc",
           "unescape"]

# Defensive field access. No copies: these return the payload's own objects, or an empty
# stand-in of the expected kind, so one odd field never costs the rest of an object.

_EMPTY: Any = MappingProxyType({})


def as_dict(value: Any) -> Any:
    return value if type(value) is dict else _EMPTY


def as_list(value: Any) -> Any:
    return value if type(value) is list else ()


def as_str(value: Any) -> str | None:
    return value if type(value) is str else None


def as_id(value: Any) -> str | None:
    """An id string (``id_str`` in v1.1; every id in v2)."""
    return value if type(value) is str and value else None


def as_int(value: Any) -> int | None:
    if type(value) is int:
        return value
    if type(value) is str and value.isascii() and value.isdigit():
        return int(value)
    return None


def as_bool(value: Any) -> bool | None:
    return value if type(value) is bool else None

_MONTHS = {
    "Jan": "01", "Feb": "02", "Mar": "03", "Apr": "04", "May": "05", "Jun": "06",
    "Jul": "07", "Aug": "08", "Sep": "09", "Oct": "10", "Nov": "11", "Dec": "12",
}  # fmt: skip


#: ``Sun Jan 28 06:31:55 +0000 2007``: month, day, time, year.
_V1_UTC = re.compile(r"\S{3} (\S{3}) (\d\d) (\d\d:\d\d:\d\d) \+0000 (\d{4})", re.ASCII).fullmatch


def _iso(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def to_iso_utc(value: object) -> str | None:
    """An API date as ISO 8601 UTC with second precision (``2007-01-28T06:31:55Z``).

    Accepts v1.1's ``Sun Jan 28 06:31:55 +0000 2007`` (any offset) and v2's ISO form
    (``2007-01-28T06:31:55.000Z``). Anything else, ``None`` included, gives ``None``.
    """
    if type(value) is not str:
        return None
    # Fast path: the v1.1 form in UTC, which is what Twitter always sends (and an archive for
    # each of its tweets): one match in C.
    if (utc := _V1_UTC(value)) is not None and (month := _MONTHS.get(utc[1])) is not None:
        return f"{utc[4]}-{month}-{utc[2]}T{utc[3]}Z"
    value = value.strip()
    try:
        if len(value) >= 10 and value[4] == "-":
            return _iso(datetime.fromisoformat(value))
        # Any offset, any spacing; no strptime, whose %a and %b follow the process locale.
        _weekday, month, day, clock, offset, year = value.split()
        hour, minute, second = clock.split(":")
        sign = -1 if offset[0] == "-" else 1
        if offset[0] not in "+-" or len(offset) != 5 or not offset[1:].isdigit():
            return None
        delta = timedelta(hours=int(offset[1:3]), minutes=int(offset[3:5])) * sign
        moment = datetime(
            int(year), int(_MONTHS[month]), int(day), int(hour), int(minute), int(second),
            tzinfo=timezone(delta),
        )  # fmt: skip
        return _iso(moment)
    except (ValueError, KeyError, IndexError, OverflowError):
        return None


def source_name(value: object) -> str | None:
    """The app name of a tweet's ``source``: ``<a href="..." rel="nofollow">Twitter Web Client</a>``
    gives ``Twitter Web Client``; a plain ``web`` stays ``web``; empty or missing gives ``None``."""
    if type(value) is not str:
        return None
    text = value
    if text.startswith("<"):
        start = text.find(">")
        end = text.rfind("</a>")
        if start != -1:
            text = text[start + 1 : end] if end > start else text[start + 1 :]
    text = html.unescape(text).strip()
    return text or None


def unescape(value: object) -> str | None:
    """Tweet text with HTML entities (``&amp;``, ``&lt;``, ``&gt;``) decoded; else ``None``."""
    if type(value) is not str:
        return None
    return html.unescape(value)
