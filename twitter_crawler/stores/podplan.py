"""The Pod store's write planner: one batch, and what the Pod holds of it, into one bulk request.

Pure: no I/O. The store first asks :func:`lookups` what to read, reads it from the Pod into a
:class:`PodView` (one ``bulk`` search, plus one search per contacts walk the batch completes),
then :func:`plan` decides, without calling the Pod, with the merge rule both stores share
(:mod:`.records`):

* items the Pod lacks are created, with the Pod ids of :func:`~.ids.pod_id`; items it holds are
  updated with the properties that changed (and undeleted), or left alone;
* an edge's end the Pod lacks becomes a minimal item; an edge the Pod holds, or that the batch
  creates already, is not created again (the Pod would store it twice);
* a watermark only moves forward;
* a page of an unfinished walk becomes a ``TwitterContactsPage`` item; a complete walk deletes
  the edges to accounts none of its pages listed, and the walk's pages, and records the list as
  read in full (its ``TwitterContactsRead`` item, at the ``now`` the store gives the plan).

After the bulk, :meth:`PodPlan.commit` brings the store's index of edges up to date.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from typing import Any

from twitter_crawler.stores.base import WriteResult
from twitter_crawler.stores.ids import pod_id
from twitter_crawler.stores.podschema import (
    DATA_TYPES,
    NOT_PROPERTIES,
    page_id,
    pod_properties,
    read_id,
    unknown_properties,
    watermark_id,
)
from twitter_crawler.stores.records import (
    BadBatch,
    Key,
    Page,
    Records,
    merge,
    minimal_properties,
    newer_since_id,
)

logger = logging.getLogger(__name__)

#: A source's edges: ``(edge name, target id)`` → the ids of the edges' own items.
Edges = dict[tuple[str, str], list[str]]
#: A walk: ``(account key, edge name)``.
Walk = tuple[str, str]


@dataclass(slots=True)
class Lookups:
    """What the planner needs to know of the Pod for one batch."""

    #: Pod id → ``(type, key)`` of the batch's items and edge ends.
    types: dict[str, Key] = field(default_factory=dict)
    #: Pod ids of the batch's items and edge ends, then of its bookkeeping items.
    ids: list[str] = field(default_factory=list)
    #: Sources whose edges the plan needs: of the batch's edges, and of the walks it completes.
    sources: set[str] = field(default_factory=set)
    #: Sources of the walks the batch completes: their edges' own ids must be known.
    walk_sources: set[str] = field(default_factory=set)
    #: Walks the batch completes.
    walks: list[Walk] = field(default_factory=list)


@dataclass(slots=True)
class PodView:
    """What the Pod holds of one batch, read before planning."""

    #: Pod id → the item as the Pod answers a search, for the ids of :class:`Lookups` it holds.
    items: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: Source id → its edges, for every source of :class:`Lookups` (empty when it has none). The
    #: planner only reads them; :meth:`PodPlan.commit` updates them.
    edges: dict[str, Edges] = field(default_factory=dict)
    #: Walk → the ``TwitterContactsPage`` items the Pod holds of that list (any walk).
    walks: dict[Walk, list[dict[str, Any]]] = field(default_factory=dict)


def _item_ids(records: Records) -> dict[str, Key]:
    """Pod id → ``(type, key)`` of the items and edge ends of ``records``, in batch order."""
    ids: dict[str, Key] = {}
    for kind, key, _ in records.items:
        ids[pod_id(kind, key)] = (kind, key)
    for source, _, target in records.edges:
        for kind, key in (source, target):
            ids[pod_id(kind, key)] = (kind, key)
    return ids


def lookups(records: Records) -> Lookups:
    """What to read from the Pod before planning ``records``. Raises :class:`BadBatch` for an
    item type the Pod store does not know."""
    ids = _item_ids(records)
    needs = Lookups(types=ids)
    for kind, _ in ids.values():
        if kind not in DATA_TYPES:
            raise BadBatch(f"{kind} is not an item type of the Pod store")
    state_ids = [watermark_id(user_id) for user_id, _ in records.watermarks]
    state_ids += [page_id(page) for page in records.pages]
    state_ids += [read_id(page.source, page.name) for page in records.pages if page.complete]
    needs.ids = list(dict.fromkeys([*ids, *state_ids]))
    needs.sources = {pod_id(*source) for source, _, _ in records.edges}
    for page in records.pages:
        if page.complete:
            source = pod_id("Account", page.source)
            needs.sources.add(source)
            needs.walk_sources.add(source)
            needs.walks.append((page.source, page.name))
    needs.walks = list(dict.fromkeys(needs.walks))
    return needs


def edges_of(item: dict[str, Any] | None) -> Edges:
    """The edges of an item as the Pod answers a search with ``[[edges]]``."""
    edges: Edges = {}
    for edge in (item or {}).get("[[edges]]", []):
        target = (edge.get("_item") or {}).get("id")
        if target and not edge.get("deleted"):
            edges.setdefault((edge["_edge"], target), []).append(edge.get("id", ""))
    return edges


def has_unknown_edge_ids(edges: Edges) -> bool:
    """Whether an edge's own id is unknown: such an edge could not be deleted."""
    return any(not edge_id for edge_ids in edges.values() for edge_id in edge_ids)


class _Row:
    __slots__ = ("changed", "deleted", "exists", "props")

    def __init__(self, props: dict[str, Any], *, exists: bool, deleted: bool = False) -> None:
        self.props = props
        self.exists = exists
        self.deleted = deleted
        self.changed: dict[str, Any] = {}


@dataclass(slots=True)
class PodPlan:
    """One batch as one bulk request, and what it changes."""

    result: WriteResult = field(default_factory=WriteResult)
    create_items: list[dict[str, Any]] = field(default_factory=list)
    update_items: list[dict[str, Any]] = field(default_factory=list)
    delete_items: list[str] = field(default_factory=list)
    #: ``(source id, name, target id)``, in the order of the request.
    create_edges: list[tuple[str, str, str]] = field(default_factory=list)
    #: ``(source id, name, target id, edge id)`` of the edges deleted.
    delete_edges: list[tuple[str, str, str, str]] = field(default_factory=list)
    #: Sources whose edges the bulk may change: forgotten by the store if it fails.
    sources: set[str] = field(default_factory=set)

    def payload(self) -> dict[str, list[Any]]:
        """The arguments of pymemri's ``PodAPI.bulk``."""
        return {
            "create_items": self.create_items,
            "update_items": self.update_items,
            "delete_items": list(
                dict.fromkeys(
                    [edge_id for *_, edge_id in self.delete_edges if edge_id] + self.delete_items
                )
            ),
            "create_edges": [
                {"_source": s, "_target": t, "_name": n} for s, n, t in self.create_edges
            ],
        }

    def commit(self, view: PodView, answer: dict[str, Any]) -> None:
        """The bulk succeeded: bring the view's edges up to date (with the ids of the created
        edges, from the Pod's answer)."""
        created_ids = answer.get("createEdges") or []
        for position, (source, name, target) in enumerate(self.create_edges):
            edge_id = created_ids[position] if position < len(created_ids) else ""
            view.edges[source].setdefault((name, target), []).append(str(edge_id))
        for source, name, target, _ in self.delete_edges:
            view.edges[source].pop((name, target), None)


class _Planner:
    def __init__(self, records: Records, needs: Lookups, view: PodView, now_ms: int) -> None:
        self.records = records
        self.now_ms = now_ms
        self.view = view
        self.plan = PodPlan(sources=set(needs.sources))
        self.types = needs.types
        self.rows: dict[str, _Row] = {}
        self.create_state: list[dict[str, Any]] = []
        self.update_state: list[dict[str, Any]] = []
        self.pending: set[tuple[str, str, str]] = set()

    def run(self) -> PodPlan:
        for item_id, (kind, _) in self.types.items():
            item = self.view.items.get(item_id)
            if item is None:
                continue
            if item.get("type") != kind:
                raise BadBatch(
                    f"the Pod id {item_id} is taken by an item of type {item.get('type')}"
                )
            props = {k: v for k, v in item.items() if k not in NOT_PROPERTIES}
            self.rows[item_id] = _Row(props, exists=True, deleted=bool(item.get("deleted")))
        self._items()
        self._edges()
        self._watermarks()
        self._pages()
        plan = self.plan
        for item_id, row in self.rows.items():
            if not row.exists:
                kind = self.types[item_id][0]
                plan.create_items.append({"id": item_id, "type": kind, **row.props})
            elif row.changed:
                plan.update_items.append({"id": item_id, **row.changed})
        plan.create_items += self.create_state
        plan.update_items += self.update_state
        return plan

    def _items(self) -> None:
        result = self.plan.result
        for kind, key, raw in self.records.items:
            item_id = pod_id(kind, key)
            dropped = unknown_properties(kind, raw)
            if dropped:
                logger.debug("%s %s: properties unknown to the Pod type: %s", kind, key, dropped)
            props = pod_properties(kind, raw)
            row = self.rows.get(item_id)
            if row is None:
                self.rows[item_id] = _Row(props, exists=False)
                result.created[kind] += 1
                continue
            was_deleted = row.deleted
            if row.deleted:
                row.changed["deleted"] = False
                row.deleted = False
            changed = merge(row.props, props)
            row.changed.update(changed)
            if changed or was_deleted:
                result.updated[kind] += 1
            else:
                result.unchanged[kind] += 1

    def _edges(self) -> None:
        plan = self.plan
        for source, name, target in self.records.edges:
            for kind, key in (source, target):
                item_id = pod_id(kind, key)
                if item_id not in self.rows:
                    # An edge needs both items: a missing end becomes a minimal item.
                    self.rows[item_id] = _Row(minimal_properties(kind, key), exists=False)
                    plan.result.created[kind] += 1
            edge = (pod_id(*source), name, pod_id(*target))
            if (name, edge[2]) in self.view.edges[edge[0]] or edge in self.pending:
                continue
            plan.create_edges.append(edge)
            self.pending.add(edge)
            plan.result.edges_created[name] += 1

    def _watermarks(self) -> None:
        seen: dict[str, str] = {}
        for user_id, since_id in self.records.watermarks:
            item_id = watermark_id(user_id)
            stored = self.view.items.get(item_id)
            current = seen.get(user_id, (stored or {}).get("sinceId"))
            if not newer_since_id(current, since_id):
                continue
            seen[user_id] = since_id
            if stored is None:
                self.create_state = [s for s in self.create_state if s["id"] != item_id]
                self.create_state.append(
                    {
                        "id": item_id,
                        "type": "TwitterTimelineWatermark",
                        "userId": user_id,
                        "sinceId": since_id,
                    }
                )
            else:
                self.update_state = [s for s in self.update_state if s["id"] != item_id]
                update: dict[str, Any] = {"id": item_id, "sinceId": since_id}
                if stored.get("deleted"):
                    update["deleted"] = False
                self.update_state.append(update)

    def _pages(self) -> None:  # noqa: PLR0912
        plan = self.plan
        batch_pages: list[tuple[str, Page]] = []
        for page in self.records.pages:
            item_id = page_id(page)
            if not page.complete:
                if item_id not in self.view.items and all(i != item_id for i, _ in batch_pages):
                    batch_pages.append((item_id, page))
                continue
            # The walk is complete: every target any of its pages listed stays, the rest goes.
            listed = set(page.targets)
            for item in self.view.walks.get((page.source, page.name), []):
                if item.get("walkId") == page.walk_id:
                    listed.update(json.loads(item.get("targets") or "[]"))
                plan.delete_items.append(item["id"])
            for _, other in batch_pages:
                if (other.source, other.name, other.walk_id) == (
                    page.source,
                    page.name,
                    page.walk_id,
                ):
                    listed.update(other.targets)
            batch_pages = [
                (i, p) for i, p in batch_pages if (p.source, p.name) != (page.source, page.name)
            ]
            self._read_in_full(page.source, page.name)
            keep = {pod_id("Account", target) for target in listed}
            source_id = pod_id("Account", page.source)
            for (name, target_id), edge_ids in self.view.edges[source_id].items():
                if name == page.name and target_id not in keep:
                    for edge_id in edge_ids:
                        plan.delete_edges.append((source_id, name, target_id, edge_id))
                    plan.result.edges_removed[name] += 1
            # Edges of this batch to accounts the walk did not list: created, then removed.
            for edge in [e for e in plan.create_edges if e[0] == source_id and e[1] == page.name]:
                if edge[2] not in keep:
                    plan.create_edges.remove(edge)
                    self.pending.discard(edge)
                    plan.result.edges_removed[page.name] += 1
        for item_id, page in batch_pages:
            self.create_state.append(
                {
                    "id": item_id,
                    "type": "TwitterContactsPage",
                    "walkId": page.walk_id,
                    "accountId": page.source,
                    "edgeName": page.name,
                    "targets": json.dumps(page.targets),
                }
            )


    def _read_in_full(self, source: str, name: str) -> None:
        item_id = read_id(source, name)
        stored = self.view.items.get(item_id)
        self.create_state = [s for s in self.create_state if s["id"] != item_id]
        self.update_state = [s for s in self.update_state if s["id"] != item_id]
        if stored is None:
            self.create_state.append(
                {
                    "id": item_id,
                    "type": "TwitterContactsRead",
                    "accountId": source,
                    "edgeName": name,
                    "dateRead": self.now_ms,
                }
            )
            return
        update: dict[str, Any] = {"id": item_id, "dateRead": self.now_ms}
        if stored.get("deleted"):
            update["deleted"] = False
        self.update_state.append(update)


def plan(
    records: Records, needs: Lookups, view: PodView, *, now_ms: int | None = None
) -> PodPlan:
    """The bulk request that applies ``records`` to a Pod that holds ``view`` (what it holds of
    ``needs``, which :func:`lookups` made of ``records``). Raises :class:`BadBatch` when the
    batch cannot be stored (an id taken by another type, a property the Pod type refuses
    outright). ``now_ms``: when a complete walk records its list as read in full (milliseconds
    since the epoch; this machine's clock by default)."""
    if now_ms is None:
        now_ms = int(time.time() * 1000)
    return _Planner(records, needs, view, now_ms).run()
