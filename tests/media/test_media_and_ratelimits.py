"""Media downloads never hold up API requests, even those parked for a rate-limit reset.

The crawl downloads profile pictures one at a time (``TWITTER_MEDIA_CONCURRENCY=1``), and the
very first one, the account's own, stalls for 20 s on the emulator. Meanwhile the timelines hit
a quota of 4 requests per 4-second window and are parked. If media took the API's places, or
the API waited behind them, the timeline requests released after each reset would come after the
stalled picture; they must all be made before the second picture is even asked for.
"""

from __future__ import annotations

import re
import subprocess
import time
import urllib.parse
from collections.abc import Callable
from pathlib import Path

from tests.media.support import HANDLE, avatar_original
from tests.support.apiversion import V1
from tests.support.crawl import crawl_command, crawl_env
from tests.support.servers import ROOT, ServerProcess

TIMELINES = 13  # alice's own and her 12 followings'
# Over v1.1, explicitly: alice's 120 tweets are one 200-tweet page, so the crawl makes one timeline
# request per account; parking and media scheduling are the same code for both versions.


def stalling_seed(emulator: ServerProcess, url: str) -> int:
    """A media-fault seed under which ``url`` is a stall (the fate is a hash of seed and file)."""
    for seed in range(1, 500):
        emulator.post_json("/_emulator/media", {"seed": seed})
        fate = emulator.get_json("/_emulator/media?url=" + urllib.parse.quote(url, safe=""))
        if fate["urls"][0]["fault"] == "timeout":
            return seed
    raise AssertionError("no seed makes the account's own picture stall")


def test_parked_api_requests_do_not_wait_for_media(
    start_world: Callable[..., ServerProcess], tmp_path: Path
) -> None:
    emulator = start_world("--quotas", "on", "--window", "4",
                              "--quota", f"{V1.timeline}=4",
                              "--media-faults", "0.3", "--media-timeout-delay", "20")
    truth = emulator.get_json(f"/_emulator/truth?handle={HANDLE}&following_tweets=5&api={V1.version}")["items"]
    me = next(i for i in truth if i["type"] == "Account" and i.get("isMe"))
    own_picture = avatar_original(me["avatarUrl"])
    stalling_seed(emulator, own_picture)

    settings = {"POD_URL": f"sqlite:///{tmp_path / 'pod.sqlite3'}", "TWITTER_MEDIA": "avatars",
                "TWITTER_MEDIA_CONCURRENCY": "1", "TWITTER_MEDIA_TIMEOUT": "60",
                "TWITTER_MEDIA_RETRY_TIMES": "0", **V1.settings}
    log_path = tmp_path / "crawl.log"
    with log_path.open("w") as log_file:
        proc = subprocess.Popen(  # noqa: S603 (our own command line)
            crawl_command(emulator.url, HANDLE, settings=settings), cwd=ROOT,
            env=crawl_env({}), stdout=subprocess.DEVNULL, stderr=log_file)
        try:
            # Once every timeline was read, the other pictures need not stall too: heal them
            # (the one in flight still stalls), so the test does not wait for each of them.
            while proc.poll() is None:
                requests = emulator.get_json("/_emulator/log")["requests"]
                if sum(r["endpoint"] == V1.timeline for r in requests) >= TIMELINES:
                    emulator.post_json("/_emulator/media", {"faults": 0})
                    break
                time.sleep(0.2)
            returncode = proc.wait(timeout=180)
        finally:
            if proc.poll() is None:
                proc.kill()
    log = log_path.read_text(encoding="utf-8")
    assert returncode == 0, log[-3000:]

    requests = emulator.get_json("/_emulator/log")["requests"]
    media = [r for r in requests if r["media"]]
    api = [r for r in requests if not r["media"]]
    assert media[0]["url"] == own_picture, "the first picture asked for is the account's own"
    assert len(media) > 1
    parked = re.search(r"'twitter/ratelimit/parked': (\d+)", log)
    assert parked and int(parked.group(1)) > 0, "the timelines were parked for the quota"
    assert not [r for r in api if r["status"] == 429]
    assert sum(r["endpoint"] == V1.timeline for r in api) == TIMELINES
    second_picture = media[1]["seq"]
    late = [r["endpoint"] for r in api if r["seq"] > second_picture]
    assert late == [], f"API requests made only after the stalled picture: {late}"
