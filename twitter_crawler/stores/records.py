"""What both stores read out of a :class:`~twitter_crawler.stores.base.Batch`, checked once, and
the merge rule of an upsert, which both call.

Both stores apply a batch with the same rules, so that they count and merge alike:

* items are applied in order; the first time a key is seen (in the store or earlier in the
  batch) it is *created*, later occurrences are *updated* when they add or change a property,
  else *unchanged*. Counts do not depend on how the crawl was cut into batches;
* an update merges by :func:`merge`: new properties are added, changed ones replaced, missing
  ones kept, and a value is never erased with ``None``;
* an edge whose end is not stored yet creates that end as a minimal item
  (:func:`minimal_properties`: its key property only), counted as created: in the Pod an edge
  needs both items;
* a watermark only moves forward (a later tweet id);
* a complete :class:`~twitter_crawler.items.ContactsPage` removes the edges ``(source, name, X)``
  whose ``X`` no page of its walk listed, then forgets every walk of that list.
"""

from __future__ import annotations

import json
import pickle
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

import orjson

if TYPE_CHECKING:
    from twitter_crawler.stores.base import Batch

Key = tuple[str, str]
#: An item as a store applies it: type, key, and its properties (no ``type``, no ``None``).
ItemRecord = tuple[str, str, dict[str, Any]]
#: An edge as a store applies it: source, name, target.
EdgeRecord = tuple[Key, str, Key]


class BadBatch(Exception):
    """A batch whose content cannot be stored (an item without its key...). Nothing is written."""


@dataclass(slots=True)
class Page:
    source: str
    name: str
    walk_id: str
    targets: list[str]
    complete: bool


@dataclass(slots=True)
class Records:
    items: list[ItemRecord] = field(default_factory=list)
    edges: list[EdgeRecord] = field(default_factory=list)
    watermarks: list[tuple[str, str]] = field(default_factory=list)
    pages: list[Page] = field(default_factory=list)


def key_property(item_type: str) -> str:
    """The property that keys items of ``item_type``."""
    return "url" if item_type == "Website" else "externalId"


def same(old: Any, new: Any) -> bool:
    """Equal and of the same type: ``1 == True`` in Python, but 1 → true is a change."""
    return old == new and type(old) is type(new)


def cut_copy(stored: Any, new: Any) -> bool:
    """Whether the text ``new`` is a shorter copy of ``stored``: its beginning, cut ("…") or
    without the trailing link. X's archive cuts a retweet's text to 140 characters."""
    if type(stored) is not str or type(new) is not str or len(new) >= len(stored):
        return False
    return stored.startswith(new.removesuffix("…"))


def merge(stored: dict[str, Any], incoming: dict[str, Any]) -> dict[str, Any]:
    """The upsert of one item: ``incoming``'s properties go into ``stored`` (changed in place).

    A property ``incoming`` lacks, or holds as ``None``, keeps its stored value. A tweet's
    ``message`` is never replaced by a cut copy of itself (:func:`cut_copy`): a tweet's text does
    not change (an edit is a new tweet), so a shorter copy is a cut one, whichever import comes
    last. Returns the properties that changed, name → new value: empty when the item is unchanged.
    """
    changed = {}
    for name, value in incoming.items():
        if value is None:
            continue
        if name not in stored or not same(stored[name], value):
            if name == "message" and cut_copy(stored.get(name), value):
                continue
            stored[name] = value
            changed[name] = value
    return changed


def minimal_properties(item_type: str, key: str) -> dict[str, Any]:
    """The properties of an item known only as an edge's end: its key."""
    return {key_property(item_type): key}


def newer_since_id(old: str | None, new: str) -> bool:
    """Whether the watermark ``new`` is later than ``old`` (tweet ids, decimal strings)."""
    if old is None:
        return True
    if old.isdigit() and new.isdigit():
        return int(new) > int(old)
    return new != old


def _item(item: Any, index: int) -> tuple[str, str, dict[str, Any]]:
    if not isinstance(item, dict):
        raise BadBatch(f"item #{index} is not a dict")
    kind = item.get("type")
    if not isinstance(kind, str) or not kind or kind.startswith("_") or kind == "Edge":
        raise BadBatch(f"item #{index} has no data type ({kind!r})")
    prop = "url" if kind == "Website" else "externalId"  # key_property, inlined: once per item
    key = item.get(prop)
    if not isinstance(key, str) or not key:
        raise BadBatch(f"item #{index} ({kind}) has no {prop}")
    if type(item) is not dict:  # a subclass may copy into its own type, or iterate its own way
        return kind, key, {k: v for k, v in item.items() if k != "type" and v is not None}
    # The items come from to_dict (no None): a copy in C, the type taken out, and the None
    # values dropped only when there are any (the test is C-level too). Same dict, in the same
    # order, as the comprehension above, at a fraction of its cost for the tens of thousands of
    # items of an archive import.
    properties = item.copy()
    del properties["type"]
    if None in properties.values():
        return kind, key, {k: v for k, v in properties.items() if v is not None}
    return kind, key, properties


def _ref(ref: Any, what: str, index: int) -> Key:
    # Called twice per edge: the common case (a dict with a non-empty type and key) tests first.
    if type(ref) is dict:
        kind = ref.get("type")
        if type(kind) is str and kind:
            key = ref.get("url" if kind == "Website" else "externalId")
            if type(key) is str and key:
                return kind, key
    return _bad_ref(ref, what, index)


def _bad_ref(ref: Any, what: str, index: int) -> Key:
    """The checks of :func:`_ref` for the uncommon values (str subclasses), or its error."""
    if not isinstance(ref, dict):
        raise BadBatch(f"edge #{index} has no {what}")
    kind = ref.get("type")
    key = ref.get(key_property(kind)) if isinstance(kind, str) else None
    if not isinstance(kind, str) or not kind or not isinstance(key, str) or not key:
        raise BadBatch(f"edge #{index} has a malformed {what}: {ref!r}")
    return kind, key


def _page(page: Any, index: int) -> Page:
    if not isinstance(page, dict):
        raise BadBatch(f"contacts page #{index} is not a dict")
    for name in ("source", "name", "walkId"):
        if not isinstance(page.get(name), str) or not page[name]:
            raise BadBatch(f"contacts page #{index} has no {name}")
    targets = page.get("targets")
    if not isinstance(targets, list | tuple):
        raise BadBatch(f"contacts page #{index} has no list of targets")
    return Page(
        page["source"],
        page["name"],
        page["walkId"],
        [str(t) for t in targets],
        bool(page.get("complete")),
    )


#: The JSON text of an item's properties: compact, not ASCII-escaped.
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def dumps_properties(value: Any) -> str:
    """The JSON text of ``value``, as the SQLite store keeps properties."""
    # orjson writes the same compact, unescaped text several times faster (a store write encodes
    # every item it creates or changes); what it refuses (an integer beyond 64 bits, a non-str
    # key, a lone surrogate) goes through json as before, which is also what reads it back.
    try:
        return orjson.dumps(value).decode()
    except TypeError:
        return _ENCODER.encode(value)


def loads_properties(text: str) -> Any:
    """What :func:`dumps_properties` wrote."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:  # NaN or Infinity, which json writes and orjson refuses
        return json.loads(text)


@dataclass(slots=True)
class Packed:
    """Items and edges already in the form a store applies them (:class:`Records`), pickled.

    The archive import's reading process makes them (:func:`pack`), and they cross the crawl
    process as bytes to the store (in a :class:`~twitter_crawler.items.PackedAnswer`): the crawl
    does not decode hundreds of thousands of dicts only to encode them again for the store's
    writer process, and the store does not read and check them again. A component that reads
    the items (an export) gets them as :func:`~twitter_crawler.items.to_dict` makes them
    (:func:`packed_dicts`). ``size``: how many items and edges it holds.

    The items' properties are packed as their JSON text (:func:`dumps_properties`): the SQLite
    store inserts a new item's text as it is (``read_batch(..., texts=True)``), where it
    unpickled a dict only to encode it again; the other stores get dicts.
    """

    blob: bytes
    size: int


def pack(items: list[ItemRecord], edges: list[EdgeRecord]) -> Packed:
    """Records made by code of this project that holds to what :func:`read_batch` checks
    (a type, a non-empty key, no ``None`` property), packed."""
    texts = [(kind, key, dumps_properties(props)) for kind, key, props in items]
    return Packed(pickle.dumps((texts, edges), protocol=pickle.HIGHEST_PROTOCOL),
                  len(items) + len(edges))


def unpack_texts(packed: Packed) -> tuple[list[tuple[str, str, str]], list[EdgeRecord]]:
    """The records of ``packed``, each item's properties as their JSON text."""
    texts, edges = pickle.loads(packed.blob)  # noqa: S301 - made by pack(), in this crawl
    return texts, edges


def unpack_records(packed: Packed) -> tuple[list[ItemRecord], list[EdgeRecord]]:
    texts, edges = unpack_texts(packed)
    return [(kind, key, loads_properties(text)) for kind, key, text in texts], edges


def _ref_dict(kind: str, key: str) -> dict[str, str]:
    return {"type": kind, key_property(kind): key}


def packed_dicts(packed: Packed) -> list[dict[str, Any]]:
    """The items, then the edges, as :func:`~twitter_crawler.items.to_dict` makes them."""
    items, edges = unpack_records(packed)
    out: list[dict[str, Any]] = [{"type": kind, **props} for kind, _, props in items]
    out += [{"type": "Edge", "name": name, "source": _ref_dict(*source),
             "target": _ref_dict(*target)} for source, name, target in edges]
    return out


def read_batch(batch: Batch, *, texts: bool = False) -> Records:
    """The batch's records, checked (a :class:`Packed` run was checked when it was made).
    With ``texts``, the properties of a packed run's items stay JSON text (``str``, not a
    dict: the SQLite store's writer takes them so). Raises :class:`BadBatch`."""
    records = Records()
    items = records.items
    edges = records.edges
    for i, item in enumerate(batch.items):
        if type(item) is Packed:
            if texts:
                more_texts, more_edges = unpack_texts(item)
                items += cast("list[ItemRecord]", more_texts)
            else:
                more_items, more_edges = unpack_records(item)
                items += more_items
            edges += more_edges
        else:
            items.append(_item(item, i))
    for i, edge in enumerate(batch.edges):
        if not isinstance(edge, dict):
            raise BadBatch(f"edge #{i} is not a dict")
        name = edge.get("name")
        if not isinstance(name, str) or not name:
            raise BadBatch(f"edge #{i} has no name")
        edges.append((_ref(edge.get("source"), "source", i), name,
                      _ref(edge.get("target"), "target", i)))
    for user_id, since_id in batch.watermarks.items():
        if not str(user_id) or not str(since_id):
            raise BadBatch(f"watermark {user_id!r}: {since_id!r} is empty")
        records.watermarks.append((str(user_id), str(since_id)))
    records.pages = [_page(page, i) for i, page in enumerate(batch.contact_pages)]
    return records
