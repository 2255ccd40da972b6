"""followers/friends lists and ids: cursor chains, counts, suspended accounts."""

from __future__ import annotations

from typing import Any

from tests.emulator.conftest import Client, errors_of
from tests.emulator.refcrawl import walk_list


def truth_targets(client: Client, part: str, edge: str, **params: Any) -> list[str]:
    items = client.control("truth", parts=part, api="1.1", **params)["items"]  # walked over /1.1
    return [d["target"]["externalId"] for d in items if d["type"] == "Edge" and d["name"] == edge]


def test_followers_list_walk_returns_every_follower_once(client: Client, world: dict) -> None:
    users = walk_list(client, "followers/list", "users", screen_name="alice", count=200)
    ids = [u["id_str"] for u in users]
    assert len(ids) == len(set(ids)) == world["counts"]["followers"] == 450
    assert sorted(ids) == sorted(truth_targets(client, "followers", "follower"))
    assert all("status" in u for u in users if not u["protected"])  # skip_status defaults to false


def test_followers_ids_walk_equals_the_list_walk(client: Client) -> None:
    ids = walk_list(client, "followers/ids", "ids", screen_name="alice", count=100, stringify_ids="true")
    assert all(isinstance(i, str) for i in ids)
    assert len(ids) == len(set(ids)) == 450
    assert sorted(ids) == sorted(truth_targets(client, "followers", "follower"))
    numeric = walk_list(client, "followers/ids", "ids", screen_name="alice")
    assert [str(i) for i in numeric] == ids and all(isinstance(i, int) for i in numeric)


def test_cursor_chain_shape(client: Client) -> None:
    first = client.get("followers/list", screen_name="alice", count=200, skip_status="1").json()
    assert list(first) == ["users", "next_cursor", "next_cursor_str", "previous_cursor", "previous_cursor_str"]
    assert len(first["users"]) == 200
    assert first["previous_cursor"] == 0 and first["previous_cursor_str"] == "0"
    assert int(first["next_cursor_str"]) > 2**53 and str(first["next_cursor"]) == first["next_cursor_str"]
    assert all("status" not in u for u in first["users"])
    second = client.get("followers/list", screen_name="alice", count=200, cursor=first["next_cursor_str"]).json()
    assert int(second["previous_cursor_str"]) < 0
    back = client.get("followers/list", screen_name="alice", count=200, cursor=second["previous_cursor_str"]).json()
    assert [u["id_str"] for u in back["users"]] == [u["id_str"] for u in first["users"]]
    default = client.get("followers/list", screen_name="alice").json()
    assert len(default["users"]) == 20  # count defaults to 20
    capped = client.get("followers/list", screen_name="alice", count=1000).json()
    assert len(capped["users"]) == 200  # and is capped at 200
    ids_capped = client.get("followers/ids", screen_name="alice", count=9000).json()
    assert len(ids_capped["ids"]) == 450


def test_suspended_followings_are_in_ids_but_not_in_lists(client: Client, world: dict) -> None:
    listed = walk_list(client, "friends/list", "users", screen_name="alice", count=200, skip_status="true")
    ids = walk_list(client, "friends/ids", "ids", screen_name="alice", stringify_ids="true")
    assert len(ids) == 60 and len(listed) == 58 == world["counts"]["followings"]
    names = {u["screen_name"] for u in listed}
    assert not names & set(world["suspended"]) and set(world["protected"]) <= names
    assert {u["id_str"] for u in listed} < set(ids)
    lookup = client.post("users/lookup", user_id=",".join(ids)).json()
    assert sorted(u["id_str"] for u in lookup) == sorted(u["id_str"] for u in listed)  # suspended: omitted
    assert sorted(truth_targets(client, "following", "following")) == sorted(u["id_str"] for u in listed)
    me = client.get("users/show", screen_name="alice").json()
    assert me["friends_count"] == 58 and me["followers_count"] == 450


def test_protected_account_lists_are_served(client: Client, world: dict) -> None:
    name = world["protected"][0]
    user = client.get("users/show", screen_name=name).json()
    assert user["protected"] is True and "status" not in user
    followers = walk_list(client, "followers/list", "users", screen_name=name, count=200, skip_status="t")
    assert len(followers) == user["followers_count"]
    assert "alice" in {u["screen_name"] for u in followers}  # the main account follows it
    friends = walk_list(client, "friends/ids", "ids", screen_name=name)
    assert len(friends) == user["friends_count"]


def test_counts_of_other_accounts_match_their_lists(client: Client) -> None:
    follower = client.get("followers/list", screen_name="alice", count=3, skip_status="t").json()["users"][2]
    ids = walk_list(client, "friends/ids", "ids", user_id=follower["id_str"], stringify_ids="true")
    me_id = client.get("users/show", screen_name="alice").json()["id_str"]
    assert len(ids) == follower["friends_count"] and me_id in ids


def test_lookup_limits_and_misses(client: Client) -> None:
    r = client.get("users/lookup", screen_name="nobody_here,gone_0")
    assert (r.status_code, r.json()) == (404, {"errors": [{"code": 17, "message": "No user matches for specified terms."}]})
    many = client.post("users/lookup", user_id=",".join(str(10**6 + i) for i in range(101)))
    assert (many.status_code, errors_of(many)) == (403, [18])
    ids = walk_list(client, "followers/ids", "ids", screen_name="alice", stringify_ids="true")[:100]
    got = client.post("users/lookup", user_id=",".join(ids), include_entities="false").json()
    assert sorted(u["id_str"] for u in got) == sorted(ids)
    assert all("entities" not in u for u in got)
