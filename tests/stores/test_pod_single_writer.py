"""The Pod store takes one writer at a time (issue 18): a second crawl into a Pod that a crawl is
writing to is refused with one clear line and a non-zero exit, and the first one is unaffected.
A writer that died cannot keep the Pod: on the same machine its lease is taken over at once (its
process is gone), from another machine once the lease expired. Against the real test Pod.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.incremental.support import (
    PodTarget,
    assert_equals_truth,
    error_lines,
    finish_reason,
    me_id,
    truth,
)
from tests.stores.conftest import PodHarness
from tests.support.apiversion import V2
from tests.support.crawl import run_crawl
from tests.support.process import CrawlProcess
from tests.support.servers import ROOT, ServerProcess
from twitter_crawler.stores.base import Batch, StoreConfigError
from twitter_crawler.stores.pod import PodStore
from twitter_crawler.stores.podlease import this_host

BUSY = re.compile(
    r"Memri Pod at http://127\.0\.0\.1:\d+ is being written by another crawl \(process (\d+) on "
    r"[^;]+; its lease runs until \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC and is renewed while it "
    r"runs\): the Pod store takes one writer at a time\."
)


def dump_leases(harness: PodHarness) -> list[dict]:
    return [i for i in harness.dump()["items"] if i["type"] == "TwitterWriterLease"]


def test_a_second_store_is_refused_while_one_is_open(pod_server: ServerProcess) -> None:
    harness = PodHarness(pod_server)
    first = harness.store()
    first.open()
    second = harness.store()
    try:
        with pytest.raises(StoreConfigError) as refused:
            second.open()
        match = BUSY.search(str(refused.value))
        assert match, str(refused.value)
        assert int(match.group(1)) == __import__("os").getpid()
        assert harness.owner_key not in str(refused.value)
        first.write(Batch(items=[{"type": "Account", "externalId": "1", "handle": "me"}]))
    finally:
        first.close()
    # Given back on closing: the next writer gets the Pod.
    second.open()
    try:
        second.write(Batch(items=[{"type": "Account", "externalId": "2"}]))
    finally:
        second.close()
    leases = [i for i in dump_leases(harness) if not i["deleted"]]
    assert len(leases) == 1 and leases[0]["released"] is True


def test_a_writer_killed_on_this_machine_does_not_block(pod_server: ServerProcess) -> None:
    harness = PodHarness(pod_server)
    holder = subprocess.Popen(  # noqa: S603
        [sys.executable, "-c",
         "import sys, time\n"
         "from twitter_crawler.stores.pod import PodStore\n"
         f"s = PodStore({pod_server.url!r}, owner_key={harness.owner_key!r}, "
         f"database_key={harness.database_key!r})\n"
         "s.open()\nprint('open', flush=True)\ntime.sleep(600)\n"],
        stdout=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "open"
        with pytest.raises(StoreConfigError, match="being written by another crawl"):
            harness.store().open()
        holder.kill()  # kill -9: the lease is neither renewed nor given back
        holder.wait(30)
    finally:
        if holder.poll() is None:
            holder.kill()
        if holder.stdout:
            holder.stdout.close()
    (lease,) = [i for i in dump_leases(harness) if not i["deleted"]]
    assert lease["released"] is False and lease["expires"] > time.time() * 1000
    store = harness.store()
    store.open()  # at once, long before the lease expires: its process is gone
    store.close()


def test_a_writer_lost_on_another_machine_blocks_until_its_lease_expires(
    pod_server: ServerProcess,
) -> None:
    harness = PodHarness(pod_server)
    lost = harness.store()
    assert isinstance(lost, PodStore)
    lost.open()
    lease = lost._lease
    lease._stop.set()  # the machine is gone: no more renewals, no release
    expires = int(time.time() * 1000) + 2000
    lost._api().update_item({"id": lease.item_id, "host": "elsewhere/another-boot", "expires": expires})
    lease.item_id = ""
    lost.close()
    assert this_host() != "elsewhere/another-boot"

    with pytest.raises(StoreConfigError, match=r"process \d+ on elsewhere;"):
        harness.store().open()
    time.sleep(max(0.0, expires / 1000 - time.time()) + 0.2)
    store = harness.store()
    store.open()
    store.close()


def test_a_second_crawl_into_a_pod_is_refused_and_the_first_completes(
    start_emulator: Callable[..., ServerProcess], pod_server: ServerProcess, tmp_path: Path
) -> None:
    # Timelines under a tight quota: the first crawl parks for its windows, a while.
    emulator = start_emulator("--followers", "40", "--followings", "8", "--tweets", "300",
                              "--following-tweets", "6", "--quota", "users/tweets=4",
                              "--window", "6", "--seed", "21")
    target = PodTarget(pod_server)
    settings = {**target.settings(), **V2.settings}
    first = CrawlProcess(emulator.url, "alice", settings=settings)
    try:
        first.wait_for(lambda: any(not i["released"] for i in target.dump()["items"]
                                   if i["type"] == "TwitterWriterLease"), timeout=60)
        second = run_crawl(emulator.url, "alice", settings=settings, env={})
        assert second.returncode == 1, second.log[-3000:]
        (line,) = error_lines(second.log)
        assert "Cannot use the store: " in line and BUSY.search(line), line
        assert str(first.proc.pid) in line
        assert finish_reason(second.log) == "pod_config_error"
        assert "Traceback" not in second.log
        assert first.proc.poll() is None, "the first crawl stopped"
        assert first.wait(300) == 0, first.log[-3000:]
    finally:
        first.close()
    assert error_lines(first.log) == []
    assert_equals_truth(target.snapshot(), truth(emulator, V2), me_id(emulator))
