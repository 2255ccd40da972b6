"""Helpers shared by the API modules of every version: bodies, defensive field access, dates,
tweet sources, and the collector a parse gathers its items in.

Pure functions (and one plain class), no Scrapy. They never raise on odd input (but
:func:`load_json` on a body that is not JSON): what cannot be converted is ``None``.
"""

from __future__ import annotations

import html
from datetime import UTC, datetime, timedelta, timezone
from types import MappingProxyType
from typing import Any

import orjson

from twitter_crawler.exceptions import MalformedPayload
from twitter_crawler.items import Edge, ref

__all__ = [
    "Collector", "as_bool", "as_dict", "as_id", "as_int", "as_list", "as_str", "best_mp4",
    "load_json", "source_name", "text_excerpt", "to_iso_utc", "unescape",
]


def load_json(body: bytes | str) -> Any:
    """The decoded body; :class:`MalformedPayload` if it is not JSON (truncated, HTML, empty)."""
    try:
        # orjson: decoding was a quarter of the crawl's main thread with json (BENCHMARKS.md).
        return orjson.loads(body)
    except (ValueError, TypeError) as exc:  # orjson.JSONDecodeError is a ValueError
        size = len(body) if isinstance(body, (bytes, str)) else 0
        raise MalformedPayload(f"body is not JSON ({size} bytes): {exc}") from None


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
    # Fast path: the v1.1 form in UTC, which is what Twitter always sends. Slices, no parsing.
    if len(value) == 30 and value[20:25] == "+0000" and value[13] == ":" and value[16] == ":":
        month = _MONTHS.get(value[4:7])
        year, day, clock = value[26:30], value[8:10], value[11:19]
        digits = year + day + clock[:2] + clock[3:5] + clock[6:]
        if month and digits.isascii() and digits.isdigit():
            return f"{year}-{month}-{day}T{clock}Z"
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


# Bodies and parses


def best_mp4(variants: Any) -> str | None:
    """The URL of the highest-bitrate mp4 among a video's variants (v1.1 ``bitrate``, v2
    ``bit_rate``); the first one when none says its bitrate."""
    best, best_rate = None, -1
    for variant in as_list(variants):
        if type(variant) is not dict or variant.get("content_type") != "video/mp4":
            continue
        url = as_str(variant.get("url"))
        rate = variant.get("bit_rate", variant.get("bitrate"))
        rate = rate if type(rate) is int else 0
        if url and (best is None or rate > best_rate):
            best, best_rate = url, rate
    return best


def text_excerpt(body: bytes | str, limit: int = 200) -> str:
    """A short, one-line excerpt of a non-JSON error body: its HTML title, else its start."""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body)
    lower = text.lower()
    start = lower.find("<title>")
    if start != -1:
        end = lower.find("</title>", start)
        if end != -1:
            return " ".join(text[start + 7 : end].split())[:limit]
    return " ".join(text[: limit * 4].split())[:limit]


class Collector:
    """Items of one parse (either API version), bucketed so that nodes come before edges, each
    key once."""

    __slots__ = ("_edge_keys", "_index", "accounts", "edges", "media", "tweets")

    def __init__(self) -> None:
        self.accounts: list[Any] = []
        self.tweets: list[Any] = []
        self.media: list[Any] = []
        self.edges: list[Edge] = []
        self._index: dict[tuple[str, str], Any] = {}
        self._edge_keys: set[tuple[str, str, str, str]] = set()

    def add(self, bucket: list[Any], key: tuple[str, str], item: Any) -> None:
        old = self._index.get(key)
        if old is None:
            self._index[key] = item
            bucket.append(item)
            return
        for name in item.__slots__:
            value = getattr(item, name)
            if value is not None:
                setattr(old, name, value)

    def has(self, key: tuple[str, str]) -> bool:
        return key in self._index

    def edge(self, name: str, source: dict[str, str], target_type: str, target: str) -> None:
        key = (name, source["externalId"], target_type, target)
        if key not in self._edge_keys:
            self._edge_keys.add(key)
            self.edges.append(Edge(name, source, ref(target_type, target)))

    def medium(self, tweet_ref: dict[str, str], item: Any) -> None:
        """A Photo or Video of the tweet, with its ``photo``/``video`` edge."""
        self.add(self.media, (item.type, item.externalId), item)
        self.edge(item.type.lower(), tweet_ref, item.type, item.externalId)

    def items(self) -> list[Any]:
        return self.accounts + self.tweets + self.media + self.edges
