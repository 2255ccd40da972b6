"""Several accounts in one crawl (``-a handles=a,b,c``, ``-a handles_file=PATH``): each imported
completely, each failing one named in one line and in the summary and skipped, the exit status
saying whether all were imported, and a timeline two of them follow read once."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.apicheck import assert_world_equals, error_lines, requests_log, store_items
from tests.support.apiversion import BOTH, ApiVersion, request_user
from tests.support.crawl import run_crawl
from tests.support.servers import ServerProcess
from tests.support.worlds import followings, truth_items, union_truth

WORLD = ("--handle", "alice", "--followers", "40", "--followings", "12", "--tweets", "60",
         "--following-tweets", "5", "--protected-followings", "1", "--suspended-followings", "1",
         "--seed", "21")


@pytest.fixture(scope="module")
def world() -> Iterator[ServerProcess]:
    with ServerProcess("twitter_emulator", *WORLD) as server:
        yield server


def crawl(server: ServerProcess, db: Path, api: ApiVersion, argument: str) -> Any:
    return run_crawl(server.url, None, "-a", argument,
                     settings={**api.settings, "POD_URL": f"sqlite:///{db}"})


@pytest.mark.parametrize("api", BOTH)
def test_several_accounts_complete_and_the_failing_ones_are_named(
        world: ServerProcess, tmp_path: Path, api: ApiVersion) -> None:
    suspended = world.get_json("/_emulator/world")["suspended"][0]
    second = followings(world, "alice", api)[0]
    db = tmp_path / "pod.sqlite3"
    result = crawl(world, db, api, f"handles=alice,nobody_here,{second},{suspended}")
    assert result.returncode == 1, result.stderr[-3000:]
    assert "Import finished" in result.log
    errors = error_lines(result.log)
    assert len(errors) == 2, errors
    assert any("@nobody_here skipped: it does not exist" in e for e in errors), errors
    assert any(f"@{suspended} skipped: it is suspended" in e for e in errors), errors
    summary = re.search(r"^  imported +2  of 4 accounts; skipped: (.*)$", result.log, re.M)
    assert summary, result.log[-3000:]
    assert summary.group(1) == f"@nobody_here (does not exist), @{suspended} (suspended)"
    items, edges = store_items(db)
    assert_world_equals(items, edges, union_truth(world, ["alice", second], api))


@pytest.mark.parametrize("api", BOTH)
def test_a_timeline_they_share_is_read_once(world: ServerProcess, tmp_path: Path,
                                           api: ApiVersion) -> None:
    # alice and an account she follows: that account's timeline is one of alice's followings'
    # and its own; their followings may overlap too.
    second = followings(world, "alice", api)[0]
    listed = tmp_path / "handles.txt"
    listed.write_text(f"# accounts to import\nalice\n\n@{second}  # one she follows\nALICE\n",
                      encoding="utf-8")
    since = world.get_json("/_emulator/log")["last_seq"]
    db = tmp_path / "pod.sqlite3"
    result = crawl(world, db, api, f"handles_file={listed}")
    assert result.returncode == 0, result.stderr[-3000:]
    assert re.search(r"^  imported +2  of 2 accounts$", result.log, re.M), result.log[-3000:]
    # A timeline's first page has no position; each is asked for once, whoever follows it.
    first_pages = Counter(
        request_user(e) for e in requests_log(world, since)
        if e.get("endpoint") == api.timeline
        and not {"max_id", "until_id", "pagination_token"} & set(e["query"]))
    second_id = next(i["externalId"] for i in truth_items(world, second, api) if i.get("isMe"))
    assert first_pages[second_id] == 1
    assert len(first_pages) >= 2
    assert max(first_pages.values()) == 1, first_pages.most_common(3)
    items, edges = store_items(db)
    assert_world_equals(items, edges, union_truth(world, ["alice", second], api))


def test_all_imported_exits_0_and_a_protected_one_is_named(world: ServerProcess,
                                                           tmp_path: Path) -> None:
    protected = world.get_json("/_emulator/world")["protected"][0]
    result = crawl(world, tmp_path / "pod.sqlite3", BOTH[1].values[0], f"handles=alice,{protected}")
    assert result.returncode == 1, result.stderr[-3000:]
    assert re.search(rf"^  imported +1  of 2 accounts; skipped: @{protected} \(protected: "
                     r"profile only\)$", result.log, re.M), result.log[-3000:]
    errors = error_lines(result.log)
    assert len(errors) == 1 and f"@{protected} skipped: protected" in errors[0], errors


@pytest.mark.parametrize(("argument", "said"), [
    ("handles=alice,no such", "handles='alice,no such': 'no such' is not a Twitter handle"),
    ("handles=,", "handles=',' lists no handle (a,b,c)"),
    ("handles_file=/nonexistent/handles.txt",
     "handles_file='/nonexistent/handles.txt': no such file"),
])
def test_bad_handles_exit_2_with_one_line(world: ServerProcess, tmp_path: Path, argument: str,
                                          said: str) -> None:
    since = world.get_json("/_emulator/log")["last_seq"]
    result = crawl(world, tmp_path / "pod.sqlite3", BOTH[1].values[0], argument)
    assert result.returncode == 2
    assert result.stderr.strip().startswith(f"twitter: bad argument: {said}"), result.stderr
    assert requests_log(world, since) == []


def test_handle_and_handles_together_exit_2(world: ServerProcess, tmp_path: Path) -> None:
    result = run_crawl(world.url, "alice", "-a", "handles=alice,bob",
                       settings={"POD_URL": f"sqlite:///{tmp_path / 'p.sqlite3'}"})
    assert result.returncode == 2
    assert result.stderr.strip() == ("twitter: bad argument: give one of handle, handles and "
                                     "handles_file, not handle and handles")
