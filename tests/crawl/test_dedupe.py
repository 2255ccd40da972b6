"""The dedupe pipeline: repeats dropped, memory bounded, inside one-item-per-answer items."""

from __future__ import annotations

import pytest
from scrapy.exceptions import DropItem
from scrapy.utils.test import get_crawler

from twitter_crawler.items import Account, Answer, Edge, Tweet, ref
from twitter_crawler.pipelines.dedupe import DedupePipeline


def pipeline(window: int) -> DedupePipeline:
    crawler = get_crawler(settings_dict={"TWITTER_DEDUPE_WINDOW": window})
    crawler.stats.open_spider()
    return DedupePipeline.from_crawler(crawler)


def author(n: int) -> Account:
    return Account(str(n), handle=f"user{n}", followersCount=n)


def test_repeats_inside_an_answer_are_left_out_and_counted() -> None:
    dedupe = pipeline(1000)
    tweet = Tweet("9", message="hi")
    first = dedupe.process_item(Answer([author(1), tweet, Edge("author", ref("Tweet", "9"), ref("Account", "1"))]))
    assert [i["type"] for i in first.items] == ["Account", "Tweet", "Edge"]
    again = dedupe.process_item(Answer([author(1), Account("1", handle="user1"), author(2)]))
    # The same profile again and a mention of an account seen in full: only the new one passes.
    assert again.items == [{"type": "Account", "externalId": "2", "service": "twitter",
                            "handle": "user2", "followersCount": 2}]
    assert dedupe.crawler.stats.get_value("twitter/dedupe/dropped") == 2
    with pytest.raises(DropItem):
        dedupe.process_item(Answer([author(2)]))


def test_a_changed_item_passes_as_an_update() -> None:
    dedupe = pipeline(1000)
    dedupe.process_item(author(1))
    changed = Account("1", handle="user1", followersCount=5)
    assert dedupe.process_item(changed)["followersCount"] == 5


def test_memory_is_bounded_by_the_window() -> None:
    dedupe = pipeline(100)
    for n in range(10_000):
        dedupe.process_item(author(n))
    assert len(dedupe.seen) + len(dedupe.older) <= 200
    assert len(dedupe.full_accounts) + len(dedupe.older_full) <= 200
    # A recent repeat is still dropped; one from long ago passes again (the store's upsert
    # makes it a no-op).
    with pytest.raises(DropItem):
        dedupe.process_item(author(9_999))
    assert dedupe.process_item(author(5))["externalId"] == "5"
