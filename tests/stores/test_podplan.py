"""The Pod store's planner (stores/podplan.py) and schema (stores/podschema.py), without a Pod:
given what the Pod holds, what one batch creates, updates and deletes."""

from __future__ import annotations

import dataclasses
from collections import Counter
from typing import Any

import pytest

from tests.stores.test_store_contract import ME, account, edge, following, page, tweet
from twitter_crawler import items as crawl_items
from twitter_crawler.stores.base import Batch
from twitter_crawler.stores.podplan import PodPlan, PodView, edges_of, lookups, plan
from twitter_crawler.stores.podschema import (
    ALL_TYPES,
    DATA_TYPES,
    _pod_type,
    page_id,
    read_id,
    watermark_id,
)
from twitter_crawler.stores.records import BadBatch, read_batch


def planned(batch: Batch, view: PodView | None = None) -> tuple[PodPlan, PodView]:
    records = read_batch(batch)
    needs = lookups(records)
    view = view or PodView()
    for source in needs.sources:
        view.edges.setdefault(source, {})
    return plan(records, needs, view), view


def stored(item_id: str, kind: str, **props: Any) -> dict[str, Any]:
    return {"id": item_id, "type": kind, "deleted": False, "dateCreated": 1, **props}


# -- lookups --------------------------------------------------------------------------------------


def test_lookups_name_items_edge_ends_bookkeeping_sources_and_walks() -> None:
    records = read_batch(
        Batch(
            items=[ME],
            edges=[edge("author", ("Tweet", "100"), ("Account", "2"))],
            watermarks={"2": "100"},
            contact_pages=[page("w1", ["2"], complete=True)],
        )
    )
    needs = lookups(records)
    assert needs.ids[:3] == ["tw-acc-1", "tw-tweet-100", "tw-acc-2"]
    assert watermark_id("2") in needs.ids and page_id(records.pages[0]) in needs.ids
    assert needs.sources == {"tw-tweet-100", "tw-acc-1"}
    assert needs.walk_sources == {"tw-acc-1"}
    assert needs.walks == [("1", "following")]


def test_an_unknown_item_type_is_refused_before_any_lookup() -> None:
    with pytest.raises(BadBatch, match="Gadget is not an item type"):
        lookups(read_batch(Batch(items=[{"type": "Gadget", "externalId": "1"}])))


# -- items ----------------------------------------------------------------------------------------


def test_new_items_are_created_with_their_pod_ids_and_edge_ends_as_minimal_items() -> None:
    bulk, _ = planned(
        Batch(
            items=[tweet("100", message="hi")],
            edges=[edge("author", ("Tweet", "100"), ("Account", "2"))],
        )
    )
    assert bulk.create_items == [
        {
            "id": "tw-tweet-100",
            "type": "Tweet",
            "externalId": "100",
            "service": "twitter",
            "message": "hi",
        },
        {"id": "tw-acc-2", "type": "Account", "externalId": "2"},
    ]
    assert bulk.create_edges == [("tw-tweet-100", "author", "tw-acc-2")]
    assert bulk.result.created == Counter({"Tweet": 1, "Account": 1})
    assert bulk.payload()["create_edges"] == [
        {"_source": "tw-tweet-100", "_target": "tw-acc-2", "_name": "author"}
    ]


def test_stored_items_are_updated_with_what_changed_only() -> None:
    view = PodView(
        items={
            "tw-acc-7": stored(
                "tw-acc-7",
                "Account",
                externalId="7",
                service="twitter",
                handle="bob",
                followersCount=3,
            ),
            "tw-acc-8": stored("tw-acc-8", "Account", externalId="8", service="twitter"),
        }
    )
    bulk, _ = planned(
        Batch(items=[account("7", handle="bob", followersCount=4), account("8")]), view
    )
    assert bulk.create_items == []
    assert bulk.update_items == [{"id": "tw-acc-7", "followersCount": 4}]
    assert bulk.result.updated == Counter({"Account": 1})
    assert bulk.result.unchanged == Counter({"Account": 1})


def test_a_deleted_item_is_undeleted() -> None:
    view = PodView(
        items={
            "tw-acc-7": {
                **stored("tw-acc-7", "Account", externalId="7", service="twitter"),
                "deleted": True,
            }
        }
    )
    bulk, _ = planned(Batch(items=[account("7")]), view)
    assert bulk.update_items == [{"id": "tw-acc-7", "deleted": False}]
    assert bulk.result.updated == Counter({"Account": 1})


def test_dates_go_to_the_pod_in_milliseconds() -> None:
    bulk, _ = planned(Batch(items=[tweet("1", postDate="2016-07-16T04:17:02Z")]))
    assert bulk.create_items[0]["postDate"] == 1468642622000


def test_a_pod_id_taken_by_another_type_refuses_the_batch() -> None:
    view = PodView(items={"tw-acc-7": stored("tw-acc-7", "Tweet", externalId="7")})
    with pytest.raises(BadBatch, match="taken by an item of type Tweet"):
        planned(Batch(items=[account("7")]), view)


# -- edges ----------------------------------------------------------------------------------------


def test_an_edge_the_pod_or_the_batch_holds_is_not_created_again() -> None:
    view = PodView(edges={"tw-acc-1": {("following", "tw-acc-2"): ["e1"]}})
    bulk, _ = planned(Batch(items=[ME], edges=[*following("2", "3"), *following("3")]), view)
    assert bulk.create_edges == [("tw-acc-1", "following", "tw-acc-3")]
    assert bulk.result.edges_created == Counter({"following": 1})


def test_commit_records_the_ids_of_created_edges_and_forgets_deleted_ones() -> None:
    view = PodView(edges={"tw-acc-1": {("following", "tw-acc-2"): ["e1"]}})
    bulk, view = planned(
        Batch(edges=following("3"), contact_pages=[page("w", ["3"], complete=True)]), view
    )
    assert bulk.delete_edges == [("tw-acc-1", "following", "tw-acc-2", "e1")]
    bulk.commit(view, {"createEdges": ["e9"]})
    assert view.edges["tw-acc-1"] == {("following", "tw-acc-3"): ["e9"]}


def test_edges_of_reads_a_search_answer() -> None:
    item = {
        "[[edges]]": [
            {"_edge": "following", "_item": {"id": "tw-acc-2"}, "id": "e1"},
            {"_edge": "following", "_item": {"id": "tw-acc-3"}, "id": "e2", "deleted": True},
        ]
    }
    assert edges_of(item) == {("following", "tw-acc-2"): ["e1"]}
    assert edges_of(None) == {}


# -- bookkeeping ----------------------------------------------------------------------------------


def test_a_watermark_only_moves_forward() -> None:
    wm = watermark_id("2")
    view = PodView(items={wm: stored(wm, "TwitterTimelineWatermark", userId="2", sinceId="50")})
    bulk, _ = planned(Batch(watermarks={"2": "40"}), view)
    assert bulk.payload() == {
        "create_items": [],
        "update_items": [],
        "delete_items": [],
        "create_edges": [],
    }
    bulk, _ = planned(Batch(watermarks={"2": "60"}), view)
    assert bulk.update_items == [{"id": wm, "sinceId": "60"}]
    bulk, _ = planned(Batch(watermarks={"3": "1"}))
    assert bulk.create_items == [
        {"id": "tw-wm-3", "type": "TwitterTimelineWatermark", "userId": "3", "sinceId": "1"}
    ]


def test_a_complete_walk_keeps_what_any_of_its_pages_listed_and_deletes_the_rest() -> None:
    view = PodView(
        edges={
            "tw-acc-1": {
                ("following", "tw-acc-2"): ["e2"],
                ("following", "tw-acc-3"): ["e3"],
                ("follower", "tw-acc-4"): ["e4"],
            }
        },
        walks={
            ("1", "following"): [
                {"id": "cp-old", "walkId": "w", "targets": '["2"]'},
                {"id": "cp-other", "walkId": "older", "targets": '["3"]'},
            ]
        },
    )
    bulk, _ = planned(
        Batch(
            edges=following("5", "6"),
            contact_pages=[page("w", ["5"]), page("w", [], complete=True)],
        ),
        view,
    )
    assert bulk.delete_edges == [("tw-acc-1", "following", "tw-acc-3", "e3")]
    assert bulk.create_edges == [("tw-acc-1", "following", "tw-acc-5")]
    assert bulk.result.edges_removed == Counter({"following": 2})
    assert bulk.payload()["delete_items"] == ["e3", "cp-old", "cp-other"]
    # The unfinished page of the completed walk is not stored.
    assert [i for i in bulk.create_items if i["type"] == "TwitterContactsPage"] == []


def test_a_complete_walk_records_when_its_list_was_read_in_full() -> None:
    batch = Batch(contact_pages=[page("w", ["2"], complete=True)])
    records = read_batch(batch)
    needs = lookups(records)
    assert read_id("1", "following") in needs.ids
    view = PodView(edges={"tw-acc-1": {}})
    bulk = plan(records, needs, view, now_ms=1_700_000_000_000)
    assert [i for i in bulk.create_items if i["type"] == "TwitterContactsRead"] == [
        {"id": read_id("1", "following"), "type": "TwitterContactsRead", "accountId": "1",
         "edgeName": "following", "dateRead": 1_700_000_000_000}
    ]
    # Stored already (deleted, even): updated in place, never created twice.
    view.items[read_id("1", "following")] = stored(
        read_id("1", "following"), "TwitterContactsRead", accountId="1", edgeName="following",
        dateRead=1, deleted=True)
    bulk = plan(records, needs, view, now_ms=1_700_000_000_001)
    assert [i for i in bulk.create_items if i["type"] == "TwitterContactsRead"] == []
    assert bulk.update_items == [
        {"id": read_id("1", "following"), "dateRead": 1_700_000_000_001, "deleted": False}
    ]
    # An unfinished walk records nothing.
    unfinished, _ = planned(Batch(contact_pages=[page("w", ["2"])]))
    assert [i for i in unfinished.create_items if i["type"] == "TwitterContactsRead"] == []


def test_a_page_of_an_unfinished_walk_is_stored_once() -> None:
    bulk, _ = planned(Batch(contact_pages=[page("w", ["2"]), page("w", ["2"])]))
    pages = [i for i in bulk.create_items if i["type"] == "TwitterContactsPage"]
    assert [(p["walkId"], p["targets"]) for p in pages] == [("w", '["2"]')]


# -- the schema -----------------------------------------------------------------------------------


def test_the_pod_types_are_the_item_classes() -> None:
    for kind in DATA_TYPES:
        fields = {f.name for f in dataclasses.fields(getattr(crawl_items, kind))} - {"type"}
        assert fields <= set(DATA_TYPES[kind].properties)
    schema = {name: cls.pod_schema() for name, cls in ALL_TYPES.items()}
    assert schema["Account"].properties["dateJoined"] == "DateTime"
    assert schema["Account"].properties["followersCount"] == "Integer"
    assert schema["Account"].properties["verified"] == "Bool"
    assert schema["Tweet"].properties["postDate"] == "DateTime"
    assert schema["File"].properties["sha256"] == "Text"
    for source, name, target in crawl_items.EDGES:
        assert {"source": source, "target": target} in schema[source].edges[name]
    assert schema["TwitterTimelineWatermark"].properties["sinceId"] == "Text"


def test_a_property_added_to_an_item_class_reaches_the_pod_type() -> None:
    @dataclasses.dataclass(slots=True)
    class Tweet(crawl_items.Tweet):
        bookmarkCount: int | None = None
        editedAt: crawl_items.IsoDateTime | None = None

    properties = _pod_type(Tweet).pod_schema().properties
    assert properties["bookmarkCount"] == "Integer"
    assert properties["editedAt"] == "DateTime"
