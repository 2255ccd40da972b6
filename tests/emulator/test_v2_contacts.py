"""/2/users/:id/followers and /following over real HTTP: pagination, suspended and protected."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.emulator.conftest import Client, running
from tests.emulator.refcrawl import walk_list
from tests.emulator.test_v2_client import V2Client
from tests.support.servers import ServerProcess


@pytest.fixture()
def v2(emulator: ServerProcess) -> Iterator[V2Client]:
    with V2Client(emulator.url) as client:
        yield client


def walk(v2: V2Client, user_id: str, which: str, token: str | None = None,
         **params: Any) -> tuple[list[dict], list[dict]]:
    users: list[dict] = []
    metas: list[dict] = []
    while True:
        extra = {"pagination_token": token} if token else {}
        r = v2.get(f"users/{user_id}/{which}", **params, **extra)
        assert r.status_code == 200, r.text
        page = r.json()
        metas.append(page["meta"])
        users += page.get("data", [])
        assert page["meta"]["result_count"] == len(page.get("data", []))
        token = page["meta"].get("next_token")
        if not token:
            return users, metas


@pytest.mark.parametrize("max_results", [1, 7, 100, 1000])
def test_followers_walk_returns_everyone_once(v2: V2Client, client: Client, world: dict, max_results: int) -> None:
    users, metas = walk(v2, world["user_id"], "followers", max_results=max_results)
    ids = [u["id"] for u in users]
    assert len(ids) == len(set(ids)) == world["counts"]["followers"] == 450
    assert len(metas) == -(-450 // max_results)
    # newest first, the same list and order as v1.1's followers/list
    v1 = walk_list(client, "followers/list", "users", screen_name="alice", count=200, skip_status="true")
    assert ids == [u["id_str"] for u in v1]
    assert all(set(u) == {"id", "name", "username"} for u in users)  # default fields


def test_following_leaves_suspended_accounts_out(v2: V2Client, client: Client, world: dict) -> None:
    users, metas = walk(v2, world["user_id"], "following", max_results=7, **{"user.fields": "protected"})
    names = [u["username"] for u in users]
    assert len(names) == len(set(names)) == world["counts"]["followings"] == 58
    assert not set(names) & set(world["suspended"]) and set(world["protected"]) <= set(names)
    assert [u["protected"] for u in users].count(True) == 2
    # suspended accounts are filtered after the page is cut: some pages hold fewer than asked
    assert sum(m["result_count"] for m in metas) == 58 and min(m["result_count"] for m in metas[:-1]) < 7
    v1 = walk_list(client, "friends/list", "users", screen_name="alice", count=200, skip_status="true")
    assert [u["id"] for u in users] == [u["id_str"] for u in v1]


def test_pagination_tokens_survive_new_followers() -> None:
    with running("--followers", "30", "--followings", "4", "--quotas", "off") as server, \
            V2Client(server.url) as v2:
        me = server.get_json("/_emulator/world")["user_id"]
        first = v2.get(f"users/{me}/followers", max_results=10).json()
        server.post_json("/_emulator/mutate", {"new_followers": 5, "unfollows": 2})
        rest, _ = walk(v2, me, "followers", first["meta"]["next_token"], max_results=10)
        everyone, _ = walk(v2, me, "followers", max_results=1000)
        seen = [u["id"] for u in first["data"] + rest]
        assert len(seen) == len(set(seen))
        assert len(everyone) == 33 and set(everyone[i]["id"] for i in range(5)).isdisjoint(seen)
        assert {u["id"] for u in everyone[5:]} <= set(seen)  # the older ones, minus those who left


def test_errors(v2: V2Client, client: Client, world: dict) -> None:
    protected = client.get("users/show", screen_name=world["protected"][0]).json()["id_str"]
    for which in ("followers", "following"):
        r = v2.get(f"users/{protected}/{which}")
        assert r.status_code == 200 and "data" not in r.json()
        assert r.json()["errors"][0]["type"] == "https://api.twitter.com/2/problems/not-authorized-for-resource"
        r = v2.get(f"users/12345678901234567/{which}")
        assert r.json()["errors"][0]["title"] == "Not Found Error"
    for value in ("0", "1001", "x"):
        r = v2.get(f"users/{world['user_id']}/followers", max_results=value)
        assert r.status_code == 400
        assert r.json()["errors"][0]["message"] == (
            f"The `max_results` query parameter value [{value}] is not between 1 and 1000")
    r = v2.get(f"users/{world['user_id']}/followers", pagination_token="7140dibnotforusers")
    assert r.status_code == 400 and r.json()["type"] == "https://api.twitter.com/2/problems/invalid-request"
    r = v2.get("users/alice/followers")
    assert r.status_code == 400 and "does not match ^[0-9]{1,19}$" in r.json()["errors"][0]["message"]
