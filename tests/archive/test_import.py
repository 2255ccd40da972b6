"""A generated archive of 10,000 tweets in two parts imports completely with no request; an API
import of the same world afterwards adds only what is newer; nothing private reaches the store."""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import zipfile
from hashlib import sha256
from pathlib import Path
from typing import Any

import pytest

from tests.archive.support import run_archive, write_archive
from tests.support.crawl import read_jsonl, run_crawl
from tests.support.servers import ServerProcess
from twitter_emulator.archive import PRIVATE_MARKER
from twitter_emulator.synth import ME
from twitter_emulator.world import World, WorldOptions

TWEETS = 10_000
MISSING = 3
WORLD = ["--handle", "alice", "--tweets", str(TWEETS), "--followers", "150", "--followings", "30",
         "--following-tweets", "5", "--seed", "11"]
NEW_TWEETS = 25


def _world() -> World:
    return World(WorldOptions(handle="alice", tweets=TWEETS, followers=150, followings=30,
                              following_tweets=5, seed=11))


def _stats(log: str) -> dict[str, Any]:
    """The stats dumped at the end of the crawl's log."""
    block = log[log.rindex("Dumping Scrapy stats:"):]
    return {k: int(v) for k, v in re.findall(r"'([^']+)': (\d+),?\n", block)}


def _db(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True)


def _own_tweets(path: Path, me: str) -> set[str]:
    with _db(path) as db:
        return {k for (k,) in db.execute(
            "SELECT sourceKey FROM edge_keys WHERE name = 'author' AND sourceType = 'Tweet' "
            "AND targetKey = ?", (me,))}


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("archive")
    zpath = tmp / "twitter-2022-10-01-synthetic.zip"
    write_archive(zpath, *WORLD, "--parts", "2", "--likes", "40", "--missing-media", str(MISSING))
    store = tmp / "pod.sqlite3"
    result = run_archive(zpath, store, "-O", str(tmp / "items.jsonl"))
    return {"zip": zpath, "store": store, "result": result, "tmp": tmp}


def test_imports_every_tweet_without_a_request(imported: dict[str, Any]) -> None:
    result = imported["result"]
    assert result.returncode == 0, result.log[-3000:]
    stats = _stats(result.log)
    assert "downloader/request_count" not in stats  # nothing was sent, to anyone
    assert "requests  0 to the API" in result.log
    with zipfile.ZipFile(imported["zip"]) as zf:
        assert {"data/tweets.js", "data/tweets-part1.js"} <= set(zf.namelist())
    world = _world()
    me = str(world.user_id(ME))
    expected = {str(world.tweet_id(ME, n)) for n in range(TWEETS)}
    assert _own_tweets(imported["store"], me) == expected
    assert stats["twitter/archive/tweets"] == TWEETS
    # POD_ARCHIVE_BATCH_SIZE (8,000 items and edges), not POD_BATCH_SIZE (500): about 40,000
    # in a few large writes, not one per chunk of 500 tweets.
    stored = sum(v for k, v in stats.items() if k.startswith(("twitter/store/created/",
                                                              "twitter/store/edges_created/")))
    assert stored > 30_000
    assert stats["twitter/store/batches"] <= stored // 8_000 + 3
    assert f"Archive: tweets {TWEETS:,}/" in result.log  # the progress line
    with _db(imported["store"]) as db:
        account = json.loads(db.execute(
            "SELECT properties FROM items WHERE type = 'Account' AND key = ?", (me,)).fetchone()[0])
        (since,) = db.execute("SELECT sinceId FROM watermarks WHERE userId = ?", (me,)).fetchone()
        followers = db.execute("SELECT count(*) FROM edge_keys WHERE name = 'follower'").fetchone()[0]
        likes = db.execute("SELECT count(*) FROM edge_keys WHERE name = 'like'").fetchone()[0]
        retweets = db.execute("SELECT count(*) FROM items WHERE type = 'Tweet' AND "
                              "json_extract(properties, '$.tweetType') = 'retweet'").fetchone()[0]
    assert account["isMe"] is True and account["handle"] == "alice"
    assert account["description"] == world.account(ME).description
    assert since == str(max(int(t) for t in expected))  # the next API import reads what is newer
    assert followers == 150
    assert likes == 40
    assert retweets > 1000


def test_media_files_once_per_sha256_and_missing_counted(imported: dict[str, Any]) -> None:
    result = imported["result"]
    assert result.returncode == 0
    stats = _stats(result.log)
    with zipfile.ZipFile(imported["zip"]) as zf:
        shas = {sha256(zf.read(n)).hexdigest() for n in zf.namelist() if "_media/" in n}
    files_dir = imported["store"].with_name("pod.files")
    stored = {p.name for p in files_dir.rglob("*") if p.is_file()}
    assert stored == shas  # every file of the archive, each content once
    with _db(imported["store"]) as db:
        assert db.execute("SELECT count(*) FROM items WHERE type = 'File'").fetchone()[0] == len(shas)
    assert stats["twitter/archive/files_missing"] == MISSING
    assert result.log.count("The archive has no file for") == MISSING
    assert f"skipped   {MISSING:,} media files the archive lacks" in result.log  # the summary


def test_nothing_private_reaches_the_store(imported: dict[str, Any]) -> None:
    assert imported["result"].returncode == 0
    marker = PRIVATE_MARKER.encode()
    with zipfile.ZipFile(imported["zip"]) as zf:
        assert any(marker in zf.read(n) for n in zf.namelist() if n.endswith(".js"))  # it was there
    for path in [imported["store"], imported["tmp"] / "items.jsonl",
                 *imported["store"].with_name("pod.files").rglob("*")]:
        if path.is_file():
            body = path.read_bytes()
            assert marker not in body and marker.lower() not in body, path
            assert b"192.0.2.1" not in body
    assert not any(item.get("externalId") == "1" + "0" * 18  # the Circle tweet
                   for item in read_jsonl(imported["tmp"] / "items.jsonl"))
    assert _stats(imported["result"].log)["twitter/archive/private_tweets"] == 1


@pytest.mark.parametrize("version", ["2", "1.1"])
def test_api_import_afterwards_adds_only_what_is_newer(imported: dict[str, Any], tmp_path: Path,
                                                       version: str) -> None:
    assert imported["result"].returncode == 0
    # A copy of the archive's store per API version (SQLite's WAL checkpointed at close).
    store = tmp_path / "pod.sqlite3"
    shutil.copy(imported["store"], store)
    with _db(store) as db:
        before = {(t, k) for t, k in db.execute("SELECT type, key FROM items")}
        (since,) = db.execute("SELECT sinceId FROM watermarks").fetchone()
    with ServerProcess("twitter_emulator", *WORLD) as emulator:
        emulator.post_json("/_emulator/mutate", {"new_tweets": NEW_TWEETS})
        result = run_crawl(emulator.url, "alice", "-a", "parts=user,followers,following,timeline",
                           settings={"POD_URL": f"sqlite:///{store}", "TWITTER_API_VERSION": version})
        assert result.returncode == 0, result.log[-3000:]
        requests = emulator.get_json("/_emulator/log")["requests"]
    timeline = [r for r in requests if "timeline" in r["path"] or "/tweets" in r["path"]]
    # The 25 newer tweets, then the walk's end: both since the archive's watermark, no older page.
    assert 1 <= len(timeline) <= 2, timeline
    assert all(since in json.dumps(r) for r in timeline), (since, timeline)
    stats = _stats(result.log)
    world = _world()
    world.mutate(new_tweets=NEW_TWEETS)
    me = str(world.user_id(ME))
    assert _own_tweets(store, me) == {str(world.tweet_id(ME, n)) for n in range(TWEETS + NEW_TWEETS)}
    assert stats.get("twitter/store/edges_created/follower", 0) == 0  # the archive had them all
    assert stats.get("twitter/store/edges_removed/follower", 0) == 0
    with _db(store) as db:
        after = {(t, k) for t, k in db.execute("SELECT type, key FROM items")}
        account = json.loads(db.execute(
            "SELECT properties FROM items WHERE type = 'Account' AND key = ?", (me,)).fetchone()[0])
        dupes = db.execute("SELECT type, key, count(*) FROM items GROUP BY type, key "
                           "HAVING count(*) > 1").fetchall()
    assert dupes == []
    new_tweets = {k for t, k in after - before if t == "Tweet"}
    assert {str(world.tweet_id(ME, n)) for n in range(TWEETS, TWEETS + NEW_TWEETS)} <= new_tweets
    assert stats["twitter/store/created/Tweet"] == len(new_tweets)
    # The API's full profile joins the archive's: counts from the API, the history kept.
    assert account["followersCount"] == 150 and account["isMe"] is True
    assert account["dateJoined"]


def test_older_layout_imports(tmp_path: Path) -> None:
    """The 2019–20 layout: tweet.js, records without their wrapper, tweet_media/."""
    zpath = tmp_path / "old.zip"
    write_archive(zpath, "--tweets", "300", "--layout", "2019", "--seed", "3")
    store = tmp_path / "pod.sqlite3"
    result = run_archive(zpath, store)
    assert result.returncode == 0, result.log[-3000:]
    world = World(WorldOptions(tweets=300, seed=3))
    assert _own_tweets(store, str(world.user_id(ME))) == {str(world.tweet_id(ME, n)) for n in range(300)}
    stats = _stats(result.log)
    assert stats["twitter/archive/files"] > 50
    assert "twitter/archive/files_missing" not in stats
    assert stats["twitter/archive/follower"] == 120


def test_damaged_member_midway_stops_without_moving_the_watermark(tmp_path: Path) -> None:
    """A ZIP whose table of contents is sound but whose second tweets part is damaged: the start-up
    check passes, the import stops with one error line and exit 1, and no watermark is written (the
    next API import does not skip what the archive could not give)."""
    good = tmp_path / "good.zip"
    write_archive(good, "--tweets", "2000", "--parts", "2", "--no-media", "--seed", "5")
    bad = tmp_path / "bad.zip"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(bad, "w", zipfile.ZIP_STORED) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, src.read(info.filename), zipfile.ZIP_STORED)
    with zipfile.ZipFile(bad) as zf:
        info = zf.getinfo("data/tweets-part1.js")
    body = bytearray(bad.read_bytes())
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    middle = start + info.compress_size // 2
    body[middle : middle + 20] = b"\x00" * 20
    bad.write_bytes(bytes(body))
    store = tmp_path / "pod.sqlite3"
    result = run_archive(bad, store)
    assert result.returncode == 1, result.log[-3000:]
    errors = [line for line in result.log.splitlines() if "] ERROR: " in line]
    assert len(errors) == 1 and "tweets-part1.js" in errors[0], errors
    with _db(store) as db:
        assert db.execute("SELECT count(*) FROM watermarks").fetchone()[0] == 0


def test_the_export_holds_what_the_store_holds(imported: dict[str, Any]) -> None:
    """The archive's items reach the store packed, undecoded by the crawl; an export (``-O``)
    decodes them, and gets every item and edge the store got, with the same properties."""
    assert imported["result"].returncode == 0
    exported = list(read_jsonl(imported["tmp"] / "items.jsonl"))
    items = {(i["type"], i.get("externalId") or i["url"]): i for i in exported if i["type"] != "Edge"}
    edges = {(e["source"]["type"], e["source"].get("externalId") or e["source"].get("url"),
              e["name"], e["target"]["type"], e["target"].get("externalId") or e["target"].get("url"))
             for e in exported if e["type"] == "Edge"}
    with _db(imported["store"]) as db:
        stored = {(kind, key): json.loads(props)
                  for kind, key, props in db.execute("SELECT type, key, properties FROM items")}
        stored_edges = set(db.execute(
            "SELECT sourceType, sourceKey, name, targetType, targetKey FROM edge_keys"))
    assert edges == stored_edges
    assert len(stored) > TWEETS
    assert set(items) <= set(stored)
    # The store adds only the ends of edges known by their key (followers, followings).
    assert all(list(stored[key]) == ["externalId"] for key in set(stored) - set(items))
    for key, item in items.items():
        assert {k: v for k, v in item.items() if k != "type"} == stored[key], key


def test_a_pipeline_that_changes_the_items_has_its_changes_stored(tmp_path: Path) -> None:
    """A pipeline of the user's before the store's reads (and changes) the items: the store
    gets the changed items, not the packed run as the archive's reader made it."""
    zpath = tmp_path / "archive.zip"
    write_archive(zpath, "--handle", "alice", "--tweets", "300", "--followers", "5",
                  "--followings", "5", "--following-tweets", "1", "--seed", "3", "--no-media")
    store = tmp_path / "pod.sqlite3"
    result = run_archive(zpath, store, "-s", 'ITEM_PIPELINES={"tests.archive.support.MarkTweets": 250}')
    assert result.returncode == 0, result.log[-3000:]
    with _db(store) as db:
        marks = db.execute("SELECT json_extract(properties, '$.lang'), count(*) FROM items "
                           "WHERE type = 'Tweet' AND json_extract(properties, '$.message') IS NOT NULL "
                           "GROUP BY 1").fetchall()
    assert marks and all(lang == "marked" for lang, _ in marks), marks


def _file_edges(path: Path) -> set[tuple[str, str, str]]:
    with _db(path) as db:
        return set(db.execute("SELECT sourceType, sourceKey, targetKey FROM edge_keys "
                              "WHERE name = 'file'"))


def test_files_the_store_refuses_are_counted_and_the_rest_stored(tmp_path: Path) -> None:
    """Where the store cannot write a file (here half its folders are taken by plain files),
    that file is one counted warning, and its File item and ``file`` edges are left out; the
    others, written by the store's two threads, are stored with their items, each linked to
    its own media as in an import with nothing refused."""
    zpath = tmp_path / "a.zip"
    write_archive(zpath, "--tweets", "1200", "--seed", "5")
    whole = tmp_path / "whole.sqlite3"
    assert run_archive(zpath, whole).returncode == 0
    store = tmp_path / "pod.sqlite3"
    files_dir = tmp_path / "pod.files"
    files_dir.mkdir()
    blocked = {f"{i:02x}" for i in range(0, 256, 2)}
    for name in blocked:
        (files_dir / name).write_bytes(b"")
    result = run_archive(zpath, store)
    assert result.returncode == 0, result.log[-3000:]

    with zipfile.ZipFile(zpath) as zf:
        shas = {sha256(zf.read(n)).hexdigest() for n in zf.namelist() if "_media/" in n}
    refused = {s for s in shas if s[:2] in blocked}
    kept = shas - refused
    assert len(refused) > 20 and len(kept) > 20
    stats = _stats(result.log)
    assert stats["twitter/archive/files_failed"] == len(refused)
    assert stats["twitter/archive/files"] == len(kept)
    assert result.log.count("The store did not take the file") == len(refused)
    assert {p.name for p in files_dir.rglob("*") if p.is_file() and p.parent != files_dir} == kept
    with _db(store) as db:
        assert {k for (k,) in db.execute("SELECT key FROM items WHERE type = 'File'")} == kept
        media = db.execute("SELECT count(*) FROM items WHERE type IN ('Photo', 'Video')").fetchone()
    with _db(whole) as db:
        assert db.execute("SELECT count(*) FROM items WHERE type IN ('Photo', 'Video')").fetchone() == media
    assert _file_edges(store) == {e for e in _file_edges(whole) if e[2] in kept}
