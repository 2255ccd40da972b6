"""A whole crawl of a synthetic world, through real HTTP and real signing, checked exactly
against the emulator's ground truth (issue: the crawl)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.support.crawl import key_of, merged, read_jsonl, run_crawl
from tests.support.servers import ServerProcess


def as_exported(truth: list[dict[str, Any]]) -> dict[Any, dict[str, Any]]:
    """The truth says isMe false of the accounts other than the imported one; a crawl says
    nothing of them (None never erases an isMe stored by the import of that account), so its
    export must have no isMe there at all."""
    want = merged(truth)
    for props in want.values():
        if props.get("isMe") is False:
            del props["isMe"]
    return want


@pytest.mark.parametrize(
    ("api", "strategy"), [("1.1", "list"), ("1.1", "ids"), ("1.1", "auto"), ("2", "auto")]
)
def test_export_equals_ground_truth(
    emulator: ServerProcess, tmp_path: Path, api: str, strategy: str
) -> None:
    out = tmp_path / "items.jsonl"
    result = run_crawl(
        emulator.url, "alice", "-O", str(out),
        settings={"POD_URL": f"sqlite:///{tmp_path / 'pod.sqlite3'}",
                  "TWITTER_CONTACTS_STRATEGY": strategy, "TWITTER_API_VERSION": api},
        env={},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    exported = read_jsonl(out)
    truth = emulator.get_json(
        f"/_emulator/truth?handle=alice&following_tweets=5&api={api}")["items"]

    assert all("type" in item for item in exported)
    got, want = merged(exported), as_exported(truth)
    assert set(got) - set(want) == set(), "items that should not exist"
    assert set(want) - set(got) == set(), "items that are missing"
    for key, props in want.items():
        assert got[key] == props, key
    # Each item once, as in the store (an account met as a mention first is written once, merged).
    repeats = [k for k, n in Counter(key_of(i) for i in exported).items() if n > 1]
    assert repeats == [], repeats[:5]
    assert "Import finished" in result.stderr


def test_api_v2_with_an_app_only_bearer_token(emulator: ServerProcess, tmp_path: Path) -> None:
    before = emulator.get_json("/_emulator/log")["last_seq"]
    out = tmp_path / "items.jsonl"
    result = run_crawl(
        emulator.url, "alice", "-O", str(out),
        settings={"POD_URL": f"sqlite:///{tmp_path / 'pod.sqlite3'}", "TWITTER_API_VERSION": "2",
                  "TWITTER_BEARER_TOKEN": "emulator-bearer-token"},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    requests = emulator.get_json(f"/_emulator/log?since={before}")["requests"]
    assert requests and {r["auth"] for r in requests} == {"bearer"}
    truth = emulator.get_json("/_emulator/truth?handle=alice&api=2")["items"]
    assert merged(read_jsonl(out)) == as_exported(truth)
