"""The cost meter against the emulator's bill (``GET /_emulator/bill``), to the cent: real
``scrapy crawl`` runs of API v2, owned (the emulator's default token user is @alice, the app
owner) and not owned (another app owner, or a bearer token), a second run the same billing day
(both add nothing for what was read again) and after the emulator's billing clock moved to the
next day (both bill again)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.apicheck import lines, stats
from tests.support.crawl import CrawlResult, run_crawl
from tests.support.servers import ServerProcess
from twitter_emulator.credentials import BEARER_TOKEN

WORLD = ("--handle", "alice", "--followers", "60", "--followings", "15", "--tweets", "40",
         "--following-tweets", "6", "--protected-followings", "1", "--suspended-followings", "1",
         "--seed", "11")
KINDS = ("posts", "users", "follows", "owned")


def crawl(server: ServerProcess, tmp: Path, *, ledger: str = "ledger",
          settings: dict[str, str] | None = None, env: dict[str, str] | None = None) -> CrawlResult:
    result = crawl_result(server, tmp, ledger=ledger, settings=settings, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def crawl_result(server: ServerProcess, tmp: Path, *args: str, ledger: str = "ledger",
                 settings: dict[str, str] | None = None,
                 env: dict[str, str] | None = None) -> CrawlResult:
    """A v2 crawl of @alice into ``tmp``'s store, with ``tmp``'s cost ledger."""
    tmp.mkdir(parents=True, exist_ok=True)
    return run_crawl(server.url, "alice", *args, settings={
        "TWITTER_API_VERSION": "2",
        "POD_URL": f"sqlite:///{tmp / 'pod.sqlite3'}",
        "TWITTER_COST_LEDGER_DIR": str(tmp / ledger),
        **(settings or {}),
    }, env=env)


def meter(result: CrawlResult) -> dict[str, Any]:
    s = stats(result.log)
    return {"micro": s["twitter/cost/micro_usd"],
            "kinds": {k: (s[f"twitter/cost/{k}/count"], s[f"twitter/cost/{k}/usd"]) for k in KINDS},
            "includes": (s.get("twitter/cost/includes/posts", 0),
                         s.get("twitter/cost/includes/users", 0))}


def bill(server: ServerProcess) -> dict[str, Any]:
    b = server.get_json("/_emulator/bill")
    return {"micro": b["total_micro_usd"],
            "kinds": {k: (v["count"], v["usd"]) for k, v in b["kinds"].items()},
            "includes": (b["includes"]["posts"], b["includes"]["users"])}


def minus(after: dict[str, Any], before: dict[str, Any]) -> dict[str, Any]:
    return {"micro": after["micro"] - before["micro"],
            "kinds": {k: (after["kinds"][k][0] - before["kinds"][k][0],
                          round(after["kinds"][k][1] - before["kinds"][k][1], 6)) for k in KINDS},
            "includes": tuple(a - b for a, b in zip(after["includes"], before["includes"],
                                                   strict=True))}


@pytest.fixture()
def owner_emulator() -> Iterator[ServerProcess]:
    with ServerProcess("twitter_emulator", *WORLD) as server:
        yield server


@pytest.fixture()
def third_party_emulator() -> Iterator[ServerProcess]:
    # The app belongs to another account of the world: @alice's token reads nothing owned.
    with ServerProcess("twitter_emulator", *WORLD, "--app-owner", "qidexo64") as server:
        yield server


def summary_cost_line(result: CrawlResult) -> str:
    found = [line for line in result.log.splitlines() if line.strip().startswith("cost ")]
    assert found, result.log[-3000:]
    return found[-1].strip()


def test_owned_import_the_meter_is_the_bill_then_a_same_day_rerun_adds_nothing_then_next_day(
    owner_emulator: ServerProcess, tmp_path: Path
) -> None:
    first = crawl(owner_emulator, tmp_path)
    billed = bill(owner_emulator)
    assert meter(first) == billed
    # alice's own tweets, followers and followings are Owned Reads; the other timelines posts
    assert billed["kinds"]["owned"][0] > 40 + 60
    assert billed["kinds"]["posts"][0] > 0 and billed["kinds"]["follows"][0] == 0
    assert billed["kinds"]["users"][0] == 1  # /2/users/me and the profile: one user read
    assert stats(first.log)["twitter/cost/owned_account"] is True
    assert any("Owned Reads" in line for line in lines(first.log, "INFO"))
    line = summary_cost_line(first)
    assert line.startswith(f"cost      ${billed['micro'] / 1e6:,.2f}: "), line
    assert "owned reads" in line and "not counted: X does not say whether they are billed" in line

    # the same UTC day: everything was read already, so neither the meter nor the bill moves
    again = crawl(owner_emulator, tmp_path)
    assert bill(owner_emulator) == billed
    assert meter(again)["micro"] == 0
    assert stats(again.log)["twitter/cost/free"] > 0

    # the emulator's billing clock moves to the next UTC day; the crawler's ledger of a day is
    # read only that day, so the next day's crawl starts with a ledger of its own (a fresh
    # directory stands for it: the crawler's own clock is today's)
    owner_emulator.post_json("/_emulator/billing", {"advance_days": 1})
    next_day = crawl(owner_emulator, tmp_path, ledger="ledger-next-day")
    assert meter(next_day) == minus(bill(owner_emulator), billed)
    assert meter(next_day)["micro"] > 0


def test_not_owned_when_another_account_owns_the_app(
    third_party_emulator: ServerProcess, tmp_path: Path
) -> None:
    first = crawl(third_party_emulator, tmp_path, settings={"TWITTER_COST_OWNED_READS": "False"})
    billed = bill(third_party_emulator)
    assert meter(first) == billed
    assert billed["kinds"]["owned"][0] == 0 and billed["kinds"]["follows"][0] > 60
    again = crawl(third_party_emulator, tmp_path,
                  settings={"TWITTER_COST_OWNED_READS": "False"})
    assert bill(third_party_emulator) == billed and meter(again)["micro"] == 0


def test_not_owned_with_a_bearer_token(owner_emulator: ServerProcess, tmp_path: Path) -> None:
    first = crawl(owner_emulator, tmp_path, settings={"TWITTER_BEARER_TOKEN": BEARER_TOKEN})
    billed = bill(owner_emulator)
    assert meter(first) == billed
    assert billed["kinds"]["owned"][0] == 0 and billed["kinds"]["posts"][0] >= 40
    # no /2/users/me with an app-only token: it has no user
    log = owner_emulator.get_json("/_emulator/log")["requests"]
    assert not [e for e in log if "users/me" in e.get("path", "")]
    again = crawl(owner_emulator, tmp_path,
                  settings={"TWITTER_BEARER_TOKEN": BEARER_TOKEN})
    assert bill(owner_emulator) == billed and meter(again)["micro"] == 0


def test_v1_is_not_metered(owner_emulator: ServerProcess, tmp_path: Path) -> None:
    result = crawl(owner_emulator, tmp_path, settings={"TWITTER_API_VERSION": "1.1"})
    assert "twitter/cost/usd" not in stats(result.log)
    assert ("cost      not billed per resource (API v1.1: Enterprise, priced by contract)"
            in summary_cost_line(result))


def test_prices_from_the_setting(tmp_path: Path) -> None:
    # X changes a price: the emulator bills the new one, the crawl is told it in TWITTER_PRICES
    with ServerProcess("twitter_emulator", *WORLD, "--price", "posts=0.004",
                       "--price", "owned=0.0015") as server:
        result = crawl(server, tmp_path, settings={"TWITTER_PRICES": "posts=0.004,owned=$0.0015"})
        billed = bill(server)
    assert meter(result) == billed
    assert billed["kinds"]["posts"][1] == round(billed["kinds"]["posts"][0] * 0.004, 6)
