"""Helpers shared by the API modules of every version: bodies, defensive field access, dates,
tweet sources, and the collector a parse gathers its items in.

Pure functions (and one plain class), no Scrapy. They never raise on odd input (but
:func:`load_json` on a body that is not JSON): what cannot be converted is ``None``.
"""

from __future__ import annotations

from typing import Any

import orjson

from twitter_crawler.exceptions import MalformedPayload
from twitter_crawler.fields import (
    as_bool,
    as_dict,
    as_id,
    as_int,
    as_list,
    as_str,
    source_name,
    to_iso_utc,
    unescape,
)
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
