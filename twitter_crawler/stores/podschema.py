"""The Pod's item types, derived from :mod:`twitter_crawler.items`, and the store's own.

* **Data types.** ``Account``, ``Tweet``, ``Photo``, ``Video``, ``Website``, ``File`` are pymemri
  ``Item`` classes built from the dataclasses of :mod:`twitter_crawler.items`: one property per
  field (``str`` → ``Text``, ``int`` → ``Integer``, ``bool`` → ``Bool``, a field marked
  :data:`~twitter_crawler.items.IsoDateTime` → ``DateTime``) and one ``list`` field per edge of
  :data:`~twitter_crawler.items.EDGES`. A property added to an item class reaches the Pod's schema
  and the store without another edit.
* **Bookkeeping types.** ``TwitterTimelineWatermark``, ``TwitterContactsPage``,
  ``TwitterContactsRead`` and ``TwitterWriterLease`` hold the importer's state in the Pod (see :mod:`twitter_crawler.stores.pod`): they are the store's, not
  the item model's, declared here as dataclasses and built the same way.
* **Properties as the Pod stores them.** :func:`pod_properties` turns an item's properties into
  the Pod's form (dates in milliseconds), checked by the pymemri type.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import types
import typing
from datetime import datetime
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import ValidationError

from twitter_crawler import items
from twitter_crawler.stores.ids import pod_id
from twitter_crawler.stores.podlog import Item
from twitter_crawler.stores.records import BadBatch, Page, key_property

logger = logging.getLogger(__name__)

#: Python types of item fields that the Pod has a value type for (pymemri's ``POD_TYPES``).
_PLAIN_TYPES: tuple[type, ...] = (str, int, bool, float)


def _value_type(owner: str, name: str, hint: object) -> type:
    """The Python type pymemri maps to a Pod value type, for the field ``name`` typed ``hint``."""
    if get_origin(hint) in (Union, types.UnionType):
        args = [arg for arg in get_args(hint) if arg is not type(None)]
        hint = args[0] if len(args) == 1 else hint
    if get_origin(hint) is Annotated:
        base, *marks = get_args(hint)
        if items.DATETIME in marks:
            return datetime
        hint = base
    if isinstance(hint, type) and hint in _PLAIN_TYPES:
        return hint
    raise TypeError(f"{owner}.{name}: the Pod has no value type for {hint!r}")


def _pod_type(cls: type[Any]) -> type[Item]:
    """The pymemri ``Item`` class of the item dataclass ``cls``: its properties, then its edges."""
    name = cls.__name__
    hints = typing.get_type_hints(cls, include_extras=True)
    annotations: dict[str, object] = {}
    namespace: dict[str, object] = {"__module__": __name__, "__qualname__": name}
    for data_field in dataclasses.fields(cls):
        if data_field.name == "type":
            continue
        # Optional in the Pod whatever it is in the item: an update may carry only some.
        value_type = _value_type(name, data_field.name, hints[data_field.name])
        annotations[data_field.name] = value_type | None
        namespace[data_field.name] = None
    for source, edge, target in items.EDGES:
        if source == name:
            annotations[edge] = list[typing.ForwardRef(target)]  # type: ignore[misc]
            namespace[edge] = []
    namespace["__annotations__"] = annotations
    return typing.cast("type[Item]", type(name, (Item,), namespace))


@dataclasses.dataclass(slots=True)
class TwitterTimelineWatermark:
    """The ``since_id`` of a user's last complete timeline walk."""

    userId: str
    sinceId: str


@dataclasses.dataclass(slots=True)
class TwitterContactsPage:
    """One page of an unfinished followers/followings walk (deleted when the walk completes)."""

    walkId: str
    accountId: str
    edgeName: str
    targets: str  # JSON list of account ids


@dataclasses.dataclass(slots=True)
class TwitterContactsRead:
    """When a followers/followings list was last read in full (its walk completed)."""

    accountId: str
    edgeName: str
    dateRead: int  # milliseconds since the epoch


@dataclasses.dataclass(slots=True)
class TwitterWriterLease:
    """The crawl that may write into this Pod, until ``expires`` (see :mod:`.podlease`)."""

    holder: str  # a random id of the writing store
    host: str  # hostname/boot id
    pid: int
    expires: int  # milliseconds since the epoch
    released: bool


DATA_TYPES: dict[str, type[Item]] = {
    cls.__name__: _pod_type(cls) for cls in get_args(items.DataItem)
}
STATE_TYPES: dict[str, type[Item]] = {
    cls.__name__: _pod_type(cls)
    for cls in (
        TwitterTimelineWatermark, TwitterContactsPage, TwitterContactsRead, TwitterWriterLease
    )
}
ALL_TYPES: dict[str, type[Item]] = {**DATA_TYPES, **STATE_TYPES}
for _cls in DATA_TYPES.values():
    # Edges name their target types by name, some of them not built yet when the class was.
    _cls.update_forward_refs(**DATA_TYPES)

#: What the Pod answers beside an item's properties.
NOT_PROPERTIES = frozenset(
    {
        "id",
        "type",
        "dateCreated",
        "dateModified",
        "dateServerModified",
        "deleted",
        "[[edges]]",
        "~[[edges]]",
    }
)


def watermark_id(user_id: str) -> str:
    return (
        f"tw-wm-{user_id}"
        if user_id.isdigit() and len(user_id) <= 30
        else pod_id("TwitterTimelineWatermark", user_id)
    )


def read_id(source: str, name: str) -> str:
    """One ``TwitterContactsRead`` per list: the account's id and the edge name."""
    return "tw-cr-" + hashlib.sha256(json.dumps([source, name]).encode()).hexdigest()[:30]


def page_id(page: Page) -> str:
    """Same page content, same id: a replayed batch does not store a page twice."""
    text = json.dumps([page.walk_id, page.source, page.name, page.targets])
    return "tw-cp-" + hashlib.sha256(text.encode()).hexdigest()[:30]


# -- properties as the Pod stores them -----------------------------------------------------------


def _fast_pod_props(fields: dict[str, Any], props: dict[str, Any]) -> dict[str, Any] | None:
    """What ``cls(**props).property_dict()`` gives, without pydantic's cost (about 100 µs an
    item), when every value already has its field's type; None when pydantic must decide."""
    out = {}
    for name, given in props.items():
        expected = fields[name].type_
        value = given
        if expected is datetime:
            if not isinstance(value, str):
                return None
            try:
                value = round(datetime.fromisoformat(value).timestamp() * 1000)
            except ValueError:
                return None
        elif type(value) is not expected:  # bool is not int here, as for the Pod
            return None
        out[name] = value
    return out


def unknown_properties(kind: str, props: dict[str, Any]) -> set[str]:
    """The properties the Pod type of ``kind`` does not have (they are not stored)."""
    return set(props) - set(DATA_TYPES[kind].__property_fields__)


def pod_properties(kind: str, props: dict[str, Any]) -> dict[str, Any]:
    """The properties as the Pod stores them (dates in ms), checked by the pymemri type.

    A value the type refuses is dropped with a warning; :class:`BadBatch` when nothing can be
    made of them.
    """
    cls = DATA_TYPES[kind]
    fields = cls.__property_fields__
    props = {k: v for k, v in props.items() if k in fields and k != "id"}
    fast = _fast_pod_props(fields, props)
    if fast is not None:
        return fast
    while True:
        try:
            return dict(cls(**props).property_dict())
        except ValidationError as exc:
            bad = {str(err["loc"][0]) for err in exc.errors() if err.get("loc")}
            if not bad & set(props):
                raise BadBatch(f"{kind} {props.get(key_property(kind))}: {exc}") from None
            for name in bad & set(props):
                logger.warning(
                    "%s %s: dropped property %s=%r, not a valid %s",
                    kind,
                    props.get(key_property(kind)),
                    name,
                    props[name],
                    fields[name].type_.__name__,
                )
                del props[name]
