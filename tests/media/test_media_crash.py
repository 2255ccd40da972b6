"""Writes in crawl order whatever the media do (issue #14): with a media host that answers each file
in 20 s, the own timeline's watermark and the followers walk's end must not reach the store
before the pages they cover. The crawl is killed (``kill -9``) two seconds after the emulator
answered the last page of a walk, while the files of that walk are still downloading; the rerun
(media fast again) must bring the store exactly to the truth, files included.

Before the fix an answer waited in the media pipeline for its files while later answers went on
to the store: the watermark was written ahead of the tweets of the first pages, and the rerun,
asking only for newer tweets, never imported them.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.incremental.support import (
    CrawlProcess,
    PodTarget as PodSnapshots,
    Snapshot,
    SQLiteTarget as SQLiteSnapshots,
    StoreTarget,
    assert_equals_truth,
    crawl,
    error_lines,
    log_seq,
    me_id,
    truth,
    wait_until,
)
from tests.media.support import (
    PodTarget as PodFiles,
    SQLiteTarget as SQLiteFiles,
    Target as FilesTarget,
    expected_media,
)
from tests.media.test_media_crawl import assert_files_stored
from tests.support.apiversion import V1, request_user
from tests.support.servers import ServerProcess

FOLLOWERS = 450  # three pages of followers/list
OWN_TWEETS = 450  # three pages of the own timeline, and the empty one that ends the walk
SLOW = "20"  # seconds each media file takes
WORLD = ("--handle", "alice", "--followers", str(FOLLOWERS), "--followings", "10", "--tweets",
         str(OWN_TWEETS), "--following-tweets", "5", "--photo-share", "0.3", "--quotas", "off",
         "--seed", "11")
# Over v1.1, explicitly: its 200-account and 200-tweet pages give this small world several pages
# per walk (v2's 1000-account pages would hold all 450 followers in one), and the order of pages
# and files in the store is the same code whichever version read them.
SETTINGS = {"TWITTER_MEDIA": "photos,avatars", "TWITTER_CONTACTS_STRATEGY": "list",
            "TWITTER_MEDIA_TIMEOUT": "120", **V1.settings}
MEDIA_EDGES = ("file", "profilePicture")


@pytest.fixture(params=["sqlite", "pod"])
def stores(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[StoreTarget, FilesTarget]:
    """One store, read two ways: its items, edges and watermarks; its media files."""
    if request.param == "sqlite":
        path = tmp_path / "pod.sqlite3"
        return SQLiteSnapshots(path), SQLiteFiles(path)
    server = request.getfixturevalue("pod_server")
    snapshots, files = PodSnapshots(server), PodFiles(server)
    files.owner_key, files.database_key = snapshots.owner_key, snapshots.database_key
    return snapshots, files


def open_walks(target: StoreTarget) -> int:
    """Contacts walks the store holds as begun and not complete."""
    if isinstance(target, SQLiteSnapshots):
        conn = sqlite3.connect(target.path, timeout=30)
        try:
            return int(conn.execute("SELECT count(*) FROM contact_walks").fetchone()[0])
        finally:
            conn.close()
    assert isinstance(target, PodSnapshots)
    return sum(1 for item in target.dump()["items"]
               if item["type"] == "TwitterContactsPage" and not item["deleted"])


def without_media(snap: Snapshot) -> Snapshot:
    """The store's data as the truth of a crawl without media lists it: no File items, no
    profile-picture Photos, no ``file``/``profilePicture`` edges (checked apart)."""
    out = Snapshot(watermarks=snap.watermarks, twins=snap.twins)
    out.items = {k: v for k, v in snap.items.items()
                 if k[0] != "File" and not (k[0] == "Photo" and k[1].startswith("avatar:"))}
    out.edges = [e for e in snap.edges if e[3] not in MEDIA_EDGES]
    return out


def own_tweets(snap: Snapshot, me: str) -> set[str]:
    return {e[2] for e in snap.edges if e[3] == "author" and e[4:] == ("Account", me)}


def followers(snap: Snapshot, me: str) -> set[str]:
    return {e[5] for e in snap.edges if e[3] == "follower" and e[1:3] == ("Account", me)}


def last_page_answered(emulator: ServerProcess, since: int, endpoint: str, me: str,
                       pages: int) -> Callable[[], bool]:
    def answered() -> bool:
        entries = emulator.get_json(f"/_emulator/log?since={since}")["requests"]
        return sum(1 for e in entries if e["endpoint"] == endpoint and e["status"] == 200
                   and request_user(e) == me) >= pages
    return answered


@pytest.mark.parametrize(("walk", "endpoint", "pages"), [
    pytest.param("timeline", V1.timeline, OWN_TWEETS // V1.timeline_page + 2, id="timeline"),
    pytest.param("followers", V1.followers, -(-FOLLOWERS // V1.contacts_page), id="followers"),
])
def test_kill_while_media_are_slow_when_a_walk_ends_then_rerun_completes(
    start_emulator: Callable[..., ServerProcess], stores: tuple[StoreTarget, FilesTarget],
    tmp_path: Path, walk: str, endpoint: str, pages: int,
) -> None:
    target, files = stores
    emulator = start_emulator(*WORLD, "--media-delay", SLOW)
    me = me_id(emulator)
    want = truth(emulator, V1)
    all_own = own_tweets(Snapshot(edges=[k for k in want if k[0] == "Edge"]), me)
    all_followers = followers(Snapshot(edges=[k for k in want if k[0] == "Edge"]), me)
    assert len(all_own) == OWN_TWEETS and len(all_followers) == FOLLOWERS

    seq = log_seq(emulator)
    process = CrawlProcess(emulator.url, target, tmp_path / "killed.log", SETTINGS)
    try:
        wait_until(last_page_answered(emulator, seq, endpoint, me, pages), f"the end of the {walk} walk")
        time.sleep(2)  # the walk's end has had time to reach the store; its files have not
        assert process.running(), f"the crawl ended before it could be killed:\n{process.log[-3000:]}"
        # A file is logged when it is answered: none was, the files are all still on their way.
        media = [e for e in emulator.get_json(f"/_emulator/log?since={seq}")["requests"] if e["media"]]
        assert media == [], "the media host was not slow"
        assert process.kill() != 0
    finally:
        process.close()

    killed = target.snapshot()
    # What the store holds at the kill keeps its promises: a watermark only behind every tweet
    # of its walk, a complete followers walk only with every page's edges.
    if me in killed.watermarks:
        assert own_tweets(killed, me) == all_own, (
            f"the watermark was stored before {len(all_own - own_tweets(killed, me))} of its tweets")
    if walk == "timeline":
        assert me in killed.watermarks, "killed before the walk's end was stored: nothing shown"
    if walk == "followers" and open_walks(target) == 0:
        assert followers(killed, me) == all_followers, (
            f"the walk's end was stored before {len(all_followers - followers(killed, me))} followers")

    emulator.post_json("/_emulator/media", {"delay": 0})
    rerun = crawl(emulator.url, target, settings=SETTINGS, log=tmp_path / "rerun.log")
    assert rerun.returncode == 0, rerun.log[-3000:]
    assert error_lines(rerun.log) == []
    complete = target.snapshot()
    assert_equals_truth(without_media(complete), want, me)
    assert open_walks(target) == 0
    assert_files_stored(files, expected_media(emulator, {"photos", "avatars"}, api=V1))


def test_a_crawl_with_slow_media_finishes_with_every_walk_closed(
    start_emulator: Callable[..., ServerProcess], stores: tuple[StoreTarget, FilesTarget],
    tmp_path: Path,
) -> None:
    """The other half of the bug: pages written after their walk's end left the walk open (its
    targets kept for ever) although the crawl finished."""
    target, files = stores
    emulator = start_emulator(*WORLD, "--media-delay", "2")
    me = me_id(emulator)
    result = crawl(emulator.url, target, settings={**SETTINGS, "TWITTER_MEDIA_CONCURRENCY": "64"},
                   log=tmp_path / "crawl.log")
    assert result.returncode == 0, result.log[-3000:]
    assert open_walks(target) == 0
    assert_equals_truth(without_media(target.snapshot()), truth(emulator, V1), me)
    assert_files_stored(files, expected_media(emulator, {"photos", "avatars"}, api=V1))
