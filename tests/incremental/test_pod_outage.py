"""The Pod goes away mid-crawl (PRODUCT.md §8): the crawl stops with a clear reason and a
non-zero exit status, drops nothing silently, and a rerun once the Pod is back completes the
import, nothing twice."""

from __future__ import annotations

import re
import socket
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.incremental.support import (
    CrawlProcess,
    PodTarget,
    assert_equals_truth,
    crawl,
    error_lines,
    finish_reason,
    me_id,
    timeline_requests,
    timeline_user,
    truth,
    wait_until,
)
from tests.podserver.support import stop
from tests.support.apiversion import BOTH, ApiVersion
from tests.support.servers import ServerProcess

#: Pages of the own timeline: a walk long enough to be cut short.
OWN_PAGES = 8


def world(api: ApiVersion) -> list[str]:
    return ["--handle", "alice", "--followers", "120", "--followings", "20",
            "--tweets", str(OWN_PAGES * api.timeline_page), "--following-tweets", "8",
            "--latency", "0.2", "--seed", "9"]
#: Give up on the Pod quickly: this test is about what happens then, not about patience.
FAST_GIVE_UP = {"POD_RETRY_TIMES": "2", "POD_RETRY_BACKOFF": "0.2"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_pod(port: int, data: Path) -> ServerProcess:
    return ServerProcess("pod_testserver", "--port", str(port), "--data", str(data)).start()


@pytest.mark.parametrize("api", BOTH)
def test_pod_stopped_mid_crawl_then_rerun_completes(
    start_emulator: Callable[..., ServerProcess], tmp_path: Path, api: ApiVersion
) -> None:
    emulator = start_emulator(*world(api))
    me = me_id(emulator)
    port, data = free_port(), tmp_path / "pod-data.sqlite3"
    settings = {**FAST_GIVE_UP, **api.settings}

    pod = start_pod(port, data)
    try:
        target = PodTarget(pod)
        process = CrawlProcess(emulator.url, target, tmp_path / "crawl.log", settings)
        try:
            wait_until(
                lambda: (
                    any(timeline_user(e) == me for e in timeline_requests(emulator, 0))
                    and target.tweet_count() > 0
                )
                or not process.running(),
                "tweets in the Pod",
            )
            assert process.running(), f"the crawl ended too soon:\n{process.log[-3000:]}"
            stop(pod)
            status = process.wait(timeout=120)
        finally:
            process.close()
    finally:
        stop(pod)
    log = process.log
    assert status != 0, log[-3000:]
    assert finish_reason(log) == "pod_unavailable", log[-3000:]
    errors = error_lines(log)
    assert len(errors) == 1, "\n".join(errors) or log[-3000:]
    assert re.search(r"refused|unreachable", errors[0]), errors[0]
    assert re.search(r"\brerun\b", errors[0], re.IGNORECASE), errors[0]
    assert target.owner_key not in log and target.database_key not in log
    assert "Import stopped: pod_unavailable" in log

    pod = start_pod(port, data)
    try:
        assert pod.url == target.server.url  # the same address: POD_URL does not change
        target.server = pod
        partial = target.snapshot()
        want = truth(emulator, api)
        assert 0 < partial.count("Tweet") < sum(1 for k in want if k[0] == "Tweet")
        # The own timeline's walk (8 slow pages) was cut short: its watermark did not move.
        assert me not in partial.watermarks

        rerun = crawl(emulator.url, target, settings=settings)
        assert rerun.returncode == 0, rerun.log[-3000:]
        assert error_lines(rerun.log) == []
        assert_equals_truth(target.snapshot(), want, me)
    finally:
        stop(pod)
