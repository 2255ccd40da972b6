"""``scrapy plan -a handle=NAME`` as a user runs it, against the emulator that bills like X: one
profile request (and ``/2/users/me`` for Owned Reads), nothing imported, and a range that
brackets the bill of the import that follows it, owned and not owned; a bad argument or setting
exits 2 as ``scrapy crawl`` does."""

from __future__ import annotations

import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from tests.cost.test_meter import WORLD, crawl
from tests.support.crawl import SCRAPY, CrawlResult, crawl_env
from tests.support.servers import ROOT, ServerProcess

RANGE = re.compile(r"^estimated cost: \$([\d,.]+) – \$([\d,.]+)$")


def plan(server: ServerProcess, tmp: Path, *args: str,
         settings: dict[str, str] | None = None) -> CrawlResult:
    chosen = {"TWITTER_API_VERSION": "2", "TWITTER_API_URL": server.url,
              "POD_URL": f"sqlite:///{tmp / 'pod.sqlite3'}",
              "TWITTER_COST_LEDGER_DIR": str(tmp / "ledger"), **(settings or {})}
    cmd = [sys.executable, "-c", SCRAPY, "plan", *args]
    for key, value in chosen.items():
        cmd += ["-s", f"{key}={value}"]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT,  # noqa: S603
                          env=crawl_env(None, chosen), timeout=120, check=False)
    return CrawlResult(proc.returncode, proc.stdout, proc.stderr)


def bracket(result: CrawlResult) -> tuple[Decimal, Decimal]:
    last = result.stdout.strip().splitlines()[-1]
    found = RANGE.match(last)
    assert found, last
    return Decimal(found[1].replace(",", "")), Decimal(found[2].replace(",", ""))


def paths(server: ServerProcess) -> list[str]:
    return [r["path"] for r in server.get_json("/_emulator/log")["requests"]]


@pytest.mark.parametrize(("owner", "settings", "asked"), [
    ((), {}, ["/2/users/by/username/alice", "/2/users/me"]),
    (("--app-owner", "qidexo64"), {"TWITTER_COST_OWNED_READS": "False"},
     ["/2/users/by/username/alice"]),
], ids=["owned", "not_owned"])
def test_plan_brackets_the_bill_of_the_import_that_follows(
        tmp_path: Path, owner: tuple[str, ...], settings: dict[str, str], asked: list[str]) -> None:
    with ServerProcess("twitter_emulator", *WORLD, *owner) as server:
        result = plan(server, tmp_path, "-a", "handle=alice", settings=settings)
        assert result.returncode == 0, result.stderr[-3000:]
        assert paths(server) == asked
        assert not (tmp_path / "pod.sqlite3").exists()
        low, high = bracket(result)
        owned = "(the token's own: Owned Reads)" in result.stdout
        assert owned == (not owner)
        assert "Unchanged rerun" in result.stdout
        before = Decimal(str(server.get_json("/_emulator/bill")["total_micro_usd"]))
        crawl(server, tmp_path, settings=settings)
        after = Decimal(str(server.get_json("/_emulator/bill")["total_micro_usd"]))
        cost = (after - before) / 1_000_000
        assert low <= cost <= high, (low, cost, high, result.stdout)


@pytest.mark.parametrize("args", [("-a", "handle="), ("-a", "handle=alice", "-a", "limit=x"),
                                  ("-a", "handle=alice", "-a", "colour=red")])
def test_a_bad_argument_exits_2(tmp_path: Path, args: tuple[str, ...]) -> None:
    with ServerProcess("twitter_emulator", *WORLD) as server:
        result = plan(server, tmp_path, *args)
        assert result.returncode == 2
        assert result.stderr.startswith("twitter: bad argument:"), result.stderr
        assert paths(server) == []


def test_a_bad_setting_exits_2(tmp_path: Path) -> None:
    with ServerProcess("twitter_emulator", *WORLD) as server:
        result = plan(server, tmp_path, "-a", "handle=alice",
                      settings={"TWITTER_PRICES": "posts=cheap"})
        assert result.returncode == 2
        assert result.stderr.startswith("twitter: bad setting: TWITTER_PRICES"), result.stderr
        assert paths(server) == []
