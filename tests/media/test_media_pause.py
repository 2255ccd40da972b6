"""Ctrl-C while media files download: the crawl stops within seconds, and the job directory's
resume fetches what was left (the store lists those media as still without a file)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tests.media.support import HANDLE, SQLiteTarget, avatar_original, expected_media
from tests.media.test_media_and_ratelimits import stalling_seed
from tests.support.apiversion import V2
from tests.support.crawl import run_crawl
from tests.support.process import CrawlProcess
from tests.support.servers import ServerProcess


def test_ctrl_c_during_a_stalled_download_exits_fast_and_the_resume_completes(
    start_world: Callable[..., ServerProcess], tmp_path: Path
) -> None:
    # The account's own picture stalls for two minutes; the crawl would wait that long for it.
    emulator = start_world("--media-faults", "0.3", "--media-timeout-delay", "120")
    # The crawl reads API v2, the default.
    truth = emulator.get_json(f"/_emulator/truth?handle={HANDLE}&following_tweets=5&api={V2.version}")["items"]
    me = next(i for i in truth if i["type"] == "Account" and i.get("isMe"))
    own_picture = avatar_original(me["avatarUrl"])
    stalling_seed(emulator, own_picture)
    target = SQLiteTarget(tmp_path / "pod.sqlite3")
    settings = {**target.settings(), "JOBDIR": str(tmp_path / "job"),
                "TWITTER_MEDIA": "photos,avatars", "TWITTER_MEDIA_TIMEOUT": "300",
                "TWITTER_MEDIA_RETRY_TIMES": "0"}

    crawl = CrawlProcess(emulator.url, HANDLE, settings=settings)
    try:
        crawl.wait_for(lambda: any(
            r["media"] and r["url"] == own_picture
            for r in emulator.get_json("/_emulator/log")["requests"]))
        elapsed = crawl.interrupt()
    finally:
        crawl.close()
    assert elapsed < 10, f"Ctrl-C took {elapsed:.1f}s"
    assert "'finish_reason': 'shutdown'" in crawl.log

    emulator.post_json("/_emulator/media", {"faults": 0})
    resumed = run_crawl(emulator.url, HANDLE, settings=settings, env={}, timeout=240)
    assert resumed.returncode == 0, resumed.log[-3000:]
    want = expected_media(emulator, {"photos", "avatars"})
    stored = target.read()
    for media, (url, sha) in want.files.items():
        assert stored.targets(media, "file") == [("File", sha)], f"{media} ({url}) has no file"
