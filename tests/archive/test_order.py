"""The archive imported after an API import of the same tweets: X's archive cuts a retweet's
text to 140 characters ("…"), and that cut copy never replaces the full text the API gave."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from tests.archive.support import run_archive, write_archive
from tests.support.crawl import run_crawl
from tests.support.servers import ServerProcess

WORLD = ["--handle", "alice", "--tweets", "400", "--followers", "20", "--followings", "5",
         "--following-tweets", "1", "--seed", "5"]


def _retweets(store: Path) -> dict[str, str]:
    with sqlite3.connect(f"file:{store}?mode=ro", uri=True) as db:
        rows = db.execute("SELECT key, properties FROM items WHERE type = 'Tweet'").fetchall()
    return {key: props["message"] for key, props in ((k, json.loads(p)) for k, p in rows)
            if props.get("tweetType") == "retweet" and "message" in props}


def test_an_archive_after_the_api_keeps_the_full_text_of_retweets(tmp_path: Path) -> None:
    store = tmp_path / "pod.sqlite3"
    with ServerProcess("twitter_emulator", *WORLD) as emulator:
        result = run_crawl(emulator.url, "alice", "-a", "parts=user,timeline",
                           settings={"POD_URL": f"sqlite:///{store}"})
    assert result.returncode == 0, result.log[-3000:]
    from_api = _retweets(store)

    archive = tmp_path / "archive.zip"
    write_archive(archive, *WORLD)
    only_archive = tmp_path / "archive-only.sqlite3"
    assert run_archive(archive, only_archive).returncode == 0
    cut = {k: m for k, m in _retweets(only_archive).items() if m != from_api.get(k)}
    # The archive's copies that are cut: what would have replaced the API's full texts.
    assert cut, "the world has no retweet long enough to be cut"
    assert all(from_api[k].startswith(m[:-1] if m.endswith("…") else m) for k, m in cut.items())
    assert any(m.endswith("…") for m in cut.values())

    result = run_archive(archive, store)
    assert result.returncode == 0, result.log[-3000:]
    assert _retweets(store) == from_api
