"""--dataset recorded: the real payloads, crawlable as @jack."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.emulator.conftest import Client, running
from tests.emulator.refcrawl import walk_list, walk_timeline
from tests.support.servers import ServerProcess


@pytest.fixture(scope="module")
def recorded() -> Iterator[ServerProcess]:
    with running("--dataset", "recorded", "--quotas", "off") as server:
        yield server


def test_recorded_crawl_of_jack(recorded: ServerProcess) -> None:
    client = Client(recorded.url)
    world = client.control("world")
    assert world["dataset"] == "recorded" and world["handle"] == "jack"
    jack = client.get("users/show", screen_name="jack").json()
    assert jack["id_str"] == "12" and jack["status"]["id_str"] == "759227111810985984"
    followers = walk_list(client, "followers/list", "users", screen_name="jack", count=200)
    friends = walk_list(client, "friends/list", "users", screen_name="jack", count=200)
    assert (len(followers), len(friends)) == (335, 819) == (jack["followers_count"], jack["friends_count"])
    ids = walk_list(client, "friends/ids", "ids", screen_name="jack", count=300, stringify_ids="true")
    assert ids == [u["id_str"] for u in friends]
    looked = client.post("users/lookup", user_id=",".join(ids[:100])).json()
    assert len(looked) == 100
    tweets = walk_timeline(client, screen_name="jack", count=20)
    assert len(tweets) == 63 and len({t["id_str"] for t in tweets}) == 63
    window = client.get("statuses/user_timeline", screen_name="jack", count=200,
                        since_id="757782013914951680", max_id="758097930670645248").json()
    assert len(window) == 6 and window[0]["id_str"] == "758097930670645248"  # max_id inclusive
    protected = next(u for u in friends if u["protected"])
    r = client.get("statuses/user_timeline", user_id=protected["id_str"])
    assert r.status_code == 401 and r.json()["error"] == "Not authorized."
    friend = next(u for u in friends if "status" in u)
    timeline = client.get("statuses/user_timeline", user_id=friend["id_str"]).json()
    assert [t["id_str"] for t in timeline] == [friend["status"]["id_str"]]
    assert timeline[0]["user"]["id_str"] == friend["id_str"]
    assert client.session.get(f"{recorded.url}/_emulator/truth", timeout=10).status_code == 404
    client.close()


def test_recorded_chains_under_their_own_handles(recorded: ServerProcess) -> None:
    client = Client(recorded.url)
    first = client.get("followers/ids", screen_name="GirlsMakeGames").json()
    assert first["next_cursor_str"] == "1482201362283529597" and len(first["ids"]) == 5000
    ids = walk_list(client, "followers/ids", "ids", screen_name="GirlsMakeGames")
    assert len(ids) == 7885
    assert len(walk_list(client, "friends/list", "users", screen_name="codebear")) == 819
    assert len(walk_timeline(client, screen_name="dewitt")) == 20
    assert client.get("users/show", screen_name="kesuke").json()["status"]["text"] == "Wax on."
    rls = client.get("application/rate_limit_status").json()
    assert "resources" in rls and "/statuses/user_timeline" in rls["resources"]["statuses"]
    client.close()
