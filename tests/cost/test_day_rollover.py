"""A crawl that runs across midnight UTC: X deduplicates a resource within one UTC day only, so the
meter starts a new day's count at midnight, and the ledger keeps each day's resources in that
day's file. Both the emulator and the crawl run under libfaketime (Debian's ``faketime``), with
one clock offset that puts midnight a few seconds after the crawl starts; the emulator's answers
are held long enough for the own timeline's walk to go on past it.

The second crawl (a fresh store, the same ledger, the new day) reads everything again: the
resources the first crawl read after midnight are free, those it read before are billed again.
Its meter equals the emulator's bill only if the first crawl filed each resource under the day it
was billed.
"""

from __future__ import annotations

import time
from pathlib import Path

from tests.cost.test_meter import bill, meter, minus
from tests.support.crawl import run_crawl
from tests.support.servers import ServerProcess

#: Debian's libfaketime, under the machine's multiarch directory (x86_64-linux-gnu, aarch64-linux-gnu).
LIBFAKETIME = next(iter(sorted(Path("/usr/lib").glob("*/faketime/libfaketime.so.1"))),
                   Path("/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1"))
WORLD = ("--handle", "alice", "--followers", "150", "--followings", "12", "--tweets", "3000",
         "--following-tweets", "5", "--protected-followings", "0", "--suspended-followings", "0",
         "--latency", "0.6", "--quotas", "off", "--seed", "5")
LEAD_S = 14  # seconds from now to the fake midnight: the crawl is under way, its timeline walk is not done


def faked_clock(lead: float) -> dict[str, str]:
    """The environment that moves a process's clock so that midnight UTC is ``lead`` seconds
    from now (the same offset for every process started with it)."""
    assert LIBFAKETIME.exists(), (
        f"{LIBFAKETIME} is missing: install Debian's faketime package (.ci/run does)")
    now = time.time()
    midnight = (int(now) // 86_400 + 1) * 86_400
    offset = int(midnight - now - lead)
    return {"LD_PRELOAD": str(LIBFAKETIME), "FAKETIME": f"+{offset}",
            # asyncio's timers run on the monotonic clock: leave it alone.
            "FAKETIME_DONT_FAKE_MONOTONIC": "1"}


def test_a_crawl_across_midnight_meters_each_day_apart(tmp_path: Path) -> None:
    clock = faked_clock(LEAD_S)
    with ServerProcess("twitter_emulator", *WORLD, env=clock) as server:
        day_before = server.get_json("/_emulator/bill")["day"]
        settings = {"TWITTER_API_VERSION": "2", "TWITTER_COST_LEDGER_DIR": str(tmp_path / "ledger")}

        first = run_crawl(server.url, "alice", env=clock, settings={
            **settings, "POD_URL": f"sqlite:///{tmp_path / 'first.sqlite3'}"})
        assert first.returncode == 0, first.stderr[-3000:]
        after_first = server.get_json("/_emulator/bill")
        assert after_first["day"] != day_before, "the crawl ended before midnight: raise LEAD_S's margin"
        billed = sum(k["count"] for k in after_first["kinds"].values())
        assert 0 < after_first["resources_today"] < billed, (
            "every resource was billed on one side of midnight: the crawl did not run across it",
            after_first["resources_today"], billed)
        assert meter(first) == bill(server)
        # The resources billed after midnight are in the new day's file (the app's name, a
        # hash, comes first; the day's resources before midnight went to the day before's).
        today = [p for p in (tmp_path / "ledger").glob(f"*-{after_first['day']}.ledger")]
        assert len(today) == 1 and today[0].stat().st_size > 0

        before = bill(server)
        second = run_crawl(server.url, "alice", env=clock, settings={
            **settings, "POD_URL": f"sqlite:///{tmp_path / 'second.sqlite3'}"})
        assert second.returncode == 0, second.stderr[-3000:]
        spent = minus(bill(server), before)
        # What the first crawl read after midnight is free today; what it read before is not.
        assert 0 < spent["micro"] < before["micro"]
        assert meter(second) == spent
        # The second crawl, opening the ledger on the new day, removed the file of the day before.
        assert list((tmp_path / "ledger").glob("*.ledger")) == today
