"""The merge rule of an upsert (stores/records.py), which both stores call: a pure function."""

from __future__ import annotations

from typing import Any

from twitter_crawler.stores.records import merge, minimal_properties


def test_new_properties_are_added_changed_replaced_missing_kept() -> None:
    stored: dict[str, Any] = {"externalId": "7", "handle": "bob", "followersCount": 3}
    changed = merge(stored, {"externalId": "7", "followersCount": 4, "verified": True})
    assert changed == {"followersCount": 4, "verified": True}
    assert stored == {"externalId": "7", "handle": "bob", "followersCount": 4, "verified": True}


def test_none_never_erases_a_value() -> None:
    stored: dict[str, Any] = {"externalId": "7", "handle": "bob"}
    assert merge(stored, {"handle": None, "location": None}) == {}
    assert stored == {"externalId": "7", "handle": "bob"}


def test_an_equal_value_of_another_type_is_a_change() -> None:
    # 1 == True in Python, but the stores keep JSON types: 1 -> true is a change.
    stored: dict[str, Any] = {"verified": 1, "followersCount": 0}
    assert merge(stored, {"verified": True, "followersCount": 0}) == {"verified": True}
    assert stored["verified"] is True


def test_an_unchanged_item_changes_nothing() -> None:
    stored: dict[str, Any] = {"externalId": "7", "handle": "bob"}
    assert merge(stored, dict(stored)) == {}


def test_an_edge_end_is_its_key_only() -> None:
    assert minimal_properties("Account", "12") == {"externalId": "12"}
    assert minimal_properties("Website", "https://example.org/") == {"url": "https://example.org/"}


def test_a_cut_copy_of_a_tweets_text_never_replaces_it() -> None:
    full = "Slides from tonight: what we learned importing archives https://t.co/Ab12"
    stored: dict[str, Any] = {"externalId": "9", "message": full}
    assert merge(stored, {"message": "Slides from tonight: what we lea…"}) == {}
    assert merge(stored, {"message": "Slides from tonight: what we learned importing archives"}) == {}
    assert stored["message"] == full
    # The other way round the full text is news, and so is a text that only begins alike.
    cut: dict[str, Any] = {"message": "Slides from tonight: what we lea…"}
    assert merge(cut, {"message": full}) == {"message": full}
    assert merge(stored, {"message": "Slides from yesterday"}) == {"message": "Slides from yesterday"}
    # Only a tweet's text, which never changes: a profile's shortened bio is a change.
    bio: dict[str, Any] = {"description": "Astronomer. Tea."}
    assert merge(bio, {"description": "Astronomer."}) == {"description": "Astronomer."}
