"""Media files end to end: real crawls against the emulator's media listener, into both stores.

Issue #10's acceptance: every expected file is in the store with the right sha256, one copy per
distinct content, with its ``file`` and ``profilePicture`` edges; a rerun downloads nothing; a
failed file is counted, its tweet still imported, and fetched by the next run; media requests are
never signed.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from typing import Any

from tests.media.support import HANDLE, Expected, Target, expected_media, sha256
from tests.support.crawl import run_crawl
from tests.support.servers import ServerProcess

ALL_MEDIA = "photos,avatars,videos"


def crawl(emulator: ServerProcess, target: Target, **settings: str) -> Any:
    result = run_crawl(emulator.url, HANDLE,
                       settings={**target.settings(), "TWITTER_MEDIA": ALL_MEDIA, **settings},
                       env={}, timeout=240)
    return result


def media_log(emulator: ServerProcess, since: int = 0) -> list[dict[str, Any]]:
    return [r for r in emulator.get_json(f"/_emulator/log?since={since}")["requests"] if r["media"]]


def last_seq(emulator: ServerProcess) -> int:
    return emulator.get_json("/_emulator/log")["last_seq"]


def stat(log: str, name: str) -> int:
    found = re.search(rf"'{re.escape(name)}': (\d+)", log)
    return int(found.group(1)) if found else 0


def assert_files_stored(target: Target, want: Expected, *, missing: set[tuple[str, str]] = frozenset()) -> None:
    stored = target.read()
    for media, (url, sha) in want.files.items():
        assert media in stored.items, f"{media} not imported"
        files = stored.targets(media, "file")
        if media in missing:
            assert files == [], f"{media} has a file although its download failed"
            continue
        assert files == [("File", sha)], f"{media} ({url}): file edges {files}, want sha256 {sha}"
        file_item = stored.items[("File", sha)]
        assert file_item["sha256"] == sha
        assert file_item["size"] == want.sizes[sha]
        assert file_item["mimeType"] in ("image/jpeg", "image/png", "image/gif", "video/mp4")
        assert stored.blobs[sha] and sha256(stored.blobs[sha]) == sha
    for account, photo in want.avatars.items():
        assert stored.targets(("Account", account), "profilePicture") == [("Photo", photo)]
    # One copy per distinct content, and nothing else: no File without a medium pointing at it.
    wanted_shas = {sha for media, (_, sha) in want.files.items() if media not in missing}
    assert {key for kind, key in stored.items if kind == "File"} == wanted_shas
    assert set(stored.blobs) == wanted_shas
    pointing = Counter(t for _, name, t in stored.edges if name == "file")
    assert all(n >= 1 for n in pointing.values())


def test_every_file_stored_once_with_its_edges(
    start_world: Callable[..., ServerProcess], target: Target
) -> None:
    emulator = start_world()
    want = expected_media(emulator, {"photos", "avatars", "videos"})
    kinds = Counter(kind for kind, _ in want.files)
    assert kinds["Photo"] > 20 and kinds["Video"] > 3, kinds  # the world has all of them
    distinct = {sha for _, sha in want.files.values()}
    assert len(distinct) < len(want.files), "the world must reuse some bytes (default avatars)"

    result = crawl(emulator, target)
    assert result.returncode == 0, result.log[-3000:]
    assert_files_stored(target, want)

    log = media_log(emulator)
    assert log and all(not r["authorization"] for r in log), "a media request was signed"
    assert all(r["status"] == 200 for r in log)
    # Once per URL, and only the URLs of the expected files.
    asked = Counter(r["url"] for r in log)
    assert max(asked.values()) == 1, [u for u, n in asked.items() if n > 1]
    assert set(asked) == {url for url, _ in want.files.values()}
    assert stat(result.log, "twitter/media/downloaded") == len(asked)
    assert "media " in result.log and " downloaded (" in result.log  # the summary's line
    api = [r for r in emulator.get_json("/_emulator/log")["requests"] if not r["media"]]
    assert f"requests  {len(api)} to the API (" in result.log
    assert f", {len(log)} for media files" in result.log


def test_rerun_downloads_nothing(
    start_world: Callable[..., ServerProcess], target: Target
) -> None:
    emulator = start_world()
    first = crawl(emulator, target)
    assert first.returncode == 0, first.log[-3000:]
    before = target.read()
    seq = last_seq(emulator)

    again = crawl(emulator, target)
    assert again.returncode == 0, again.log[-3000:]
    assert media_log(emulator, seq) == []
    assert stat(again.log, "twitter/media/downloaded") == 0
    after = target.read()
    assert after.items.keys() == before.items.keys()
    assert sorted(after.edges) == sorted(before.edges)


def test_failed_files_are_counted_and_fetched_by_the_next_run(
    start_world: Callable[..., ServerProcess], target: Target
) -> None:
    # A third each of 404, truncated body and a stall longer than the download timeout.
    emulator = start_world("--media-faults", "0.3", "--media-timeout-delay", "4")
    want = expected_media(emulator, {"photos", "avatars", "videos"})
    result = crawl(emulator, target, TWITTER_MEDIA_TIMEOUT="1.5", TWITTER_MEDIA_RETRY_TIMES="0")
    assert result.returncode == 0, result.log[-3000:]

    failing = {f["url"]: f["fault"] for f in emulator.get_json("/_emulator/media?failing=1")["failing"]}
    assert set(failing.values()) == {"404", "truncate", "timeout"}, failing
    missing = {media for media, (url, _) in want.files.items() if url in failing}
    assert missing and len(missing) < len(want.files)
    # Every tweet, photo and video is imported all the same; only their files are missing.
    assert_files_stored(target, want, missing=missing)
    assert stat(result.log, "twitter/media/failed") == len(failing)
    lines = [line for line in result.log.splitlines() if "Could not download the file of" in line]
    assert len(lines) == len(failing)
    assert all("the next run tries again" in line for line in lines)

    emulator.post_json("/_emulator/media", {"faults": 0})
    seq = last_seq(emulator)
    rerun = crawl(emulator, target)
    assert rerun.returncode == 0, rerun.log[-3000:]
    assert_files_stored(target, want)
    fetched = {r["url"] for r in media_log(emulator, seq)}
    assert fetched == set(failing), "the rerun fetches exactly what failed"
    assert stat(rerun.log, "twitter/media/backlog") >= len(missing)


def test_an_unreachable_media_host_costs_no_data_and_the_next_run_fetches_every_file(
    start_world: Callable[..., ServerProcess], target: Target
) -> None:
    """Every connection to the media host is refused (and retried): the import completes, each
    file is one counted failure, and once the host is back the next run stores them all."""
    emulator = start_world("--media-unreachable")
    want = expected_media(emulator, {"photos", "avatars", "videos"})
    result = crawl(emulator, target, TWITTER_MEDIA_RETRY_TIMES="1")
    assert result.returncode == 0, result.log[-3000:]
    assert_files_stored(target, want, missing=set(want.files))
    failed = stat(result.log, "twitter/media/failed")
    assert failed == len({url for url, _ in want.files.values()}), failed
    reasons = dict(re.findall(r"'twitter/media/failed/([^']+)': (\d+)", result.log))
    assert len(reasons) == 1 and "Refused" in next(iter(reasons)), reasons
    assert media_log(emulator) == []  # nothing reached the host

    emulator.post_json("/_emulator/media", {"reachable": True})
    rerun = crawl(emulator, target)
    assert rerun.returncode == 0, rerun.log[-3000:]
    assert_files_stored(target, want)


def test_no_media_when_not_asked(
    start_world: Callable[..., ServerProcess], target: Target
) -> None:
    emulator = start_world()
    result = crawl(emulator, target, TWITTER_MEDIA="")
    assert result.returncode == 0, result.log[-3000:]
    assert media_log(emulator) == []
    stored = target.read()
    assert not [key for key in stored.items if key[0] == "File"]
    assert [key for key in stored.items if key[0] == "Photo"], "photos are still imported as items"


def test_videos_only_when_asked_and_then_from_the_store(
    start_world: Callable[..., ServerProcess], target: Target
) -> None:
    """The default leaves videos out; turning them on later fetches the stored ones."""
    emulator = start_world()
    first = run_crawl(emulator.url, HANDLE, settings={**target.settings(),
                                                      "TWITTER_MEDIA": "photos,avatars"},
                      env={}, timeout=240)
    assert first.returncode == 0, first.log[-3000:]
    assert not [r for r in media_log(emulator) if r["url"].endswith(".mp4")]
    seq = last_seq(emulator)
    second = crawl(emulator, target)
    assert second.returncode == 0, second.log[-3000:]
    # The rerun reads no old tweet again; the videos come from the store's list of media
    # without a file.
    want = expected_media(emulator, {"photos", "avatars", "videos"})
    assert_files_stored(target, want)
    fetched = {r["url"] for r in media_log(emulator, seq)}
    assert fetched == {url for (kind, _), (url, _) in want.files.items() if kind == "Video"}


def test_files_over_the_size_cap_are_not_kept(
    start_world: Callable[..., ServerProcess], target: Target
) -> None:
    emulator = start_world()
    want = expected_media(emulator, {"photos", "avatars"})
    cap = sorted(want.sizes.values())[len(want.sizes) // 2]  # about half the files are larger
    result = crawl(emulator, target, TWITTER_MEDIA="photos,avatars", TWITTER_MEDIA_MAX_BYTES=str(cap))
    assert result.returncode == 0, result.log[-3000:]
    too_big = {media for media, (_, sha) in want.files.items() if want.sizes[sha] > cap}
    assert too_big and len(too_big) < len(want.files)
    assert_files_stored(target, want, missing=too_big)
    assert stat(result.log, "twitter/media/failed/too_large") == len(
        {url for media, (url, _) in want.files.items() if media in too_big})
    assert f"larger than TWITTER_MEDIA_MAX_BYTES={cap}" in result.log
