"""What both stores read out of a batch (stores/records.py): the properties of an item, and the
batches refused, with the message that says why."""

from __future__ import annotations

import re
from collections import OrderedDict
from typing import Any

import pytest

from twitter_crawler.stores.base import Batch
from twitter_crawler.stores.records import BadBatch, read_batch


def test_an_items_properties_leave_out_its_type_and_none_values_in_order() -> None:
    plain = {"type": "Tweet", "externalId": "1", "text": "hi", "lang": "en"}
    with_none = {"type": "Account", "externalId": "2", "handle": None, "name": "Bob",
                 "location": None}
    website = {"url": "https://example.org/", "type": "Website", "title": None}
    sub = OrderedDict([("externalId", "3"), ("type", "Photo"), ("url", None), ("w", 1)])
    items = read_batch(Batch(items=[plain, with_none, website, sub])).items
    assert items == [
        ("Tweet", "1", {"externalId": "1", "text": "hi", "lang": "en"}),
        ("Account", "2", {"externalId": "2", "name": "Bob"}),
        ("Website", "https://example.org/", {"url": "https://example.org/"}),
        ("Photo", "3", {"externalId": "3", "w": 1}),
    ]
    assert [list(props) for _, _, props in items] == [
        ["externalId", "text", "lang"], ["externalId", "name"], ["url"], ["externalId", "w"]]
    assert all(type(props) is dict for _, _, props in items)
    # The batch's dicts are left as they were: the store keeps its own copies.
    assert plain == {"type": "Tweet", "externalId": "1", "text": "hi", "lang": "en"}
    assert items[0][2] is not plain


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ("Tweet", "item #1 is not a dict"),
        ({"externalId": "1"}, "item #1 has no data type (None)"),
        ({"type": "", "externalId": "1"}, "item #1 has no data type ('')"),
        ({"type": "_Tweet", "externalId": "1"}, "item #1 has no data type ('_Tweet')"),
        ({"type": "Edge", "externalId": "1"}, "item #1 has no data type ('Edge')"),
        ({"type": "Tweet"}, "item #1 (Tweet) has no externalId"),
        ({"type": "Tweet", "externalId": ""}, "item #1 (Tweet) has no externalId"),
        ({"type": "Tweet", "externalId": 7}, "item #1 (Tweet) has no externalId"),
        ({"type": "Website", "externalId": "1"}, "item #1 (Website) has no url"),
    ],
)
def test_an_item_without_its_type_or_key_is_refused(item: Any, message: str) -> None:
    with pytest.raises(BadBatch, match=f"^{re.escape(message)}$"):
        read_batch(Batch(items=[{"type": "Tweet", "externalId": "0"}, item]))
