"""The /_emulator control endpoints: world, log, mutate, quotas/reset."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.emulator.conftest import Client, running
from tests.emulator.refcrawl import walk_list, walk_timeline
from tests.support.servers import ServerProcess


@pytest.fixture()
def small() -> Iterator[ServerProcess]:
    with running("--followers", "40", "--followings", "12", "--tweets", "90", "--following-tweets", "6",
                 "--seed", "3", "--quotas", "off") as server:
        yield server


def test_world_summary(client: Client, world: dict) -> None:
    assert world["dataset"] == "synthetic" and world["handle"] == "alice"
    assert world["counts"]["followers"] == 450 and world["counts"]["followings"] == 58
    assert world["counts"]["tweets"] == 3300 and world["counts"]["reachable_tweets"] == 3200
    assert len(world["protected"]) == 2 and len(world["suspended"]) == 2
    assert world["options"]["seed"] == 7 and world["server"]["quotas"] == "off"


def test_log_records_requests(client: Client) -> None:
    last = client.control("log", since=10**9)["last_seq"]
    client.get("users/show", screen_name="alice", include_entities="true")
    client.get("users/show", auth=None, screen_name="alice")
    entries = client.control("log", since=last)["requests"]
    assert [e["seq"] for e in entries] == [last + 1, last + 2]
    ok, bad = entries
    assert ok["endpoint"] == "users/show" and ok["method"] == "GET" and ok["path"] == "/1.1/users/show.json"
    assert ok["query"] == {"screen_name": "alice", "include_entities": "true"}  # no oauth_* parameters
    assert ok["status"] == 200 and ok["token"] == "1-emulator-access-token" and ok["fault"] is None
    assert bad["status"] == 400 and bad["token"] is None and ok["time"] <= bad["time"]


def test_mutations_change_serving_and_truth(small: ServerProcess) -> None:
    client = Client(small.url)
    before = walk_timeline(client, screen_name="alice")
    newest = before[0]["id_str"]
    followers_before = walk_list(client, "followers/ids", "ids", screen_name="alice", stringify_ids="t")
    changed = client.session.post(f"{small.url}/_emulator/mutate", timeout=30, json={
        "new_tweets": 7, "new_followers": 5, "unfollows": 3, "new_following_tweets": 2}).json()
    assert changed["ok"] and changed["removed_followers"] == 3
    assert changed["world"]["counts"]["followers"] == 42 and changed["world"]["counts"]["tweets"] == 97
    new = walk_timeline(client, screen_name="alice", since_id=newest)
    assert len(new) == 7 and all(int(t["id_str"]) > int(newest) for t in new)
    followers = walk_list(client, "followers/ids", "ids", screen_name="alice", stringify_ids="t")
    assert len(followers) == 42 and len(set(followers) - set(followers_before)) == 5
    assert followers[:5] == [f for f in followers if f not in followers_before]  # newest first
    truth = client.control("truth", parts="followers,timeline", api="1.1")["items"]
    assert sorted(d["target"]["externalId"] for d in truth if d.get("name") == "follower") == sorted(followers)
    assert {t["id_str"] for t in new} <= {d["externalId"] for d in truth if d["type"] == "Tweet"}
    me = client.get("users/show", screen_name="alice").json()
    assert me["followers_count"] == 42 and me["statuses_count"] == 97
    friend = walk_list(client, "friends/list", "users", screen_name="alice", skip_status="t")[0]
    assert friend["statuses_count"] == 8
    bad = client.session.post(f"{small.url}/_emulator/mutate", json={"explode": 1}, timeout=30)
    assert bad.status_code == 400
    client.close()


def test_mutations_are_deterministic() -> None:
    runs = []
    for _ in range(2):
        # Remote media URLs: local ones name each process's own media port.
        with running("--followers", "25", "--tweets", "10", "--seed", "4", "--media", "remote") as server:
            client = Client(server.url)
            client.session.post(f"{server.url}/_emulator/mutate", json={"unfollows": 4, "new_tweets": 2}, timeout=30)
            runs.append(client.control("truth", parts="followers,timeline", api="1.1")["items"])
            client.close()
    assert runs[0] == runs[1]


def test_old_cursors_stay_valid_when_followers_arrive(small: ServerProcess) -> None:
    client = Client(small.url)
    first = client.get("followers/list", screen_name="alice", count=10, skip_status="t").json()
    client.session.post(f"{small.url}/_emulator/mutate", json={"new_followers": 3}, timeout=30)
    second = client.get("followers/list", screen_name="alice", count=10, cursor=first["next_cursor_str"]).json()
    ids = [u["id_str"] for u in first["users"] + second["users"]]
    assert len(set(ids)) == 20  # no follower skipped or repeated by the insertion at the front
    client.close()
