"""A followed account's newest tweets, read by one import, never hide its older tweets from a later
import of that account's whole timeline: the two walks keep watermarks apart.

Crawl @alice (the 5 newest tweets of each account she follows), then, into the same store, one
of those accounts, which has 12: its own import must read all 12. With one watermark per account
it read none (the 5-tweet walk's watermark said "nothing older to read"), and 7 tweets were lost.
A second import of @alice afterwards still reads nothing it has.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.support.apicheck import assert_world_equals, requests_log, store_items
from tests.support.apiversion import BOTH, ApiVersion, request_user
from tests.support.crawl import run_crawl
from tests.support.servers import ServerProcess
from tests.support.worlds import followings, truth_items, union_truth

WORLD = ("--handle", "alice", "--followers", "20", "--followings", "8", "--tweets", "40",
         "--following-tweets", "12", "--protected-followings", "0", "--suspended-followings", "0",
         "--seed", "31")


@pytest.mark.parametrize("api", BOTH)
def test_a_followed_accounts_own_import_reads_its_whole_timeline(tmp_path: Path,
                                                                 api: ApiVersion) -> None:
    db = tmp_path / "pod.sqlite3"
    settings = {**api.settings, "POD_URL": f"sqlite:///{db}"}
    with ServerProcess("twitter_emulator", *WORLD) as world:
        first = run_crawl(world.url, "alice", settings=settings)
        assert first.returncode == 0, first.stderr[-3000:]
        followed = followings(world, "alice", api)[0]
        second = run_crawl(world.url, followed, settings=settings)
        assert second.returncode == 0, second.stderr[-3000:]
        items, edges = store_items(db)
        own = [i for i in truth_items(world, followed, api) if i["type"] == "Tweet"]
        assert len(own) > 5
        missing = [t["externalId"] for t in own if ("Tweet", t["externalId"]) not in items]
        assert not missing, f"{len(missing)} of {followed}'s {len(own)} tweets were not imported"
        # Both are isMe: an import never takes that from an account another one imported.
        assert_world_equals(items, edges, union_truth(world, ["alice", followed], api))

        # And alice again: every timeline from its watermark, nothing read twice.
        since = world.get_json("/_emulator/log")["last_seq"]
        third = run_crawl(world.url, "alice", settings=settings)
        assert third.returncode == 0, third.stderr[-3000:]
        timelines = [e for e in requests_log(world, since) if e.get("endpoint") == api.timeline]
        assert timelines and all(
            {"since_id"} & set(e["query"]) or "since_id" in str(e["query"]) for e in timelines), \
            [request_user(e) for e in timelines if "since_id" not in str(e["query"])]
        assert re.search(r"^  tweets +[\d,]+  \(0 new, ", third.log, re.M), third.log[-2000:]
