"""Benchmark: what an import costs under X's pay-per-use billing (issue #16).

The realistic world of the issue (10,000 followers, 500 followings, 3,200 own posts, 5 posts per
following), served by the emulator, which bills every /2 answer as X does (``GET /_emulator/bill``;
``twitter_emulator/billing.py``). Two ways to hold the token, each against its own emulator:

* **owner**: the user-context token of the imported account, which owns the app: its own posts,
  followers and followings are Owned Reads ($0.001 each);
* **app token**: the app-only bearer token: every read at the full price.

For each, side by side in one run:

1. our first import (``scrapy crawl twitter`` into a fresh SQLite store): the bill, and the
   crawler's own meter beside it;
2. the **least its data can cost**: every resource the import must read, billed once at the
   price X asks for it (the world's own counts, never the crawl's);
3. the emulator's billing clock moves to the next day; our **unchanged rerun** into the same store
   (within ``TWITTER_CONTACTS_FULL_REFRESH``, so the first page of each contact list and empty
   timelines);
4. the clock moves on a day; a **twarc2-style importer** (``bench/twarc2style.py``), which keeps no
   state and reads everything again on every run: what a rerun costs without incremental imports.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.harness import Run, Server, crawl, emulator, run_process
from bench.report import provenance, table, write_section
from twitter_emulator.credentials import BEARER_TOKEN

WORLD = {"followers": 10_000, "followings": 500, "tweets": 3_200, "per_following": 5}
QUICK = {"followers": 1_000, "followings": 50, "tweets": 400, "per_following": 5}
SCENARIOS = ("owner", "app token")
MICRO = 1_000_000
RERUN_TARGET = 0.05  # at most 5% of the first import (goal 1%)


@dataclass
class Bill:
    micro: int
    kinds: dict[str, tuple[int, int]]  # kind: (resources, micro-dollars)

    def minus(self, other: Bill) -> Bill:
        return Bill(self.micro - other.micro,
                    {k: (c - other.kinds[k][0], m - other.kinds[k][1]) for k, (c, m) in self.kinds.items()})

    def describe(self) -> str:
        parts = [f"{c:,} {k}" for k, (c, _) in self.kinds.items() if c]
        return ", ".join(parts) or "nothing"


@dataclass
class Scenario:
    name: str
    first: Bill
    meter_first: int
    least: Bill
    rerun: Bill
    meter_rerun: int
    twarc: Bill
    first_run: Run
    rerun_run: Run
    twarc_run: Run


def bill(emu: Server) -> Bill:
    b = emu.get_json("/_emulator/bill")
    return Bill(b["total_micro_usd"],
                {k: (v["count"], round(v["usd"] * MICRO)) for k, v in b["kinds"].items()})


def advance_day(emu: Server) -> None:
    import urllib.request

    req = urllib.request.Request(emu.url + "/_emulator/billing", data=json.dumps({"advance_days": 1}).encode(),
                                 headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(req, timeout=60) as resp:  # noqa: S310 (loopback)
        resp.read()


def world_args(size: dict[str, int]) -> list[str]:
    return ["--handle", "alice", "--followers", str(size["followers"]), "--followings", str(size["followings"]),
            "--tweets", str(size["tweets"]), "--following-tweets", str(size["per_following"]),
            "--protected-followings", "0", "--suspended-followings", "0", "--quotas", "off", "--seed", "16"]


def least(emu: Server, per_following: int, owned: bool) -> Bill:
    """Each resource the import must read, billed once: the world's counts, priced as X does."""
    world = emu.get_json("/_emulator/world")
    counts, me = world["counts"], world["user_id"]
    contacts: set[str] = set()
    for item in emu.get_json("/_emulator/truth?api=2")["items"]:
        if item["type"] == "Edge" and item["name"] in ("follower", "following") \
                and item["source"]["externalId"] == me:
            contacts.add(item["target"]["externalId"])
    price = {k: round(v["price_usd"] * MICRO) for k, v in emu.get_json("/_emulator/bill")["kinds"].items()}
    own_posts = counts["reachable_tweets"]
    others = counts["followings_listed_in_ids"] * min(per_following, counts["tweets_per_other_account"])
    kinds = {k: (0, 0) for k in price}

    def add(kind: str, n: int) -> None:
        c, m = kinds[kind]
        kinds[kind] = (c + n, m + n * price[kind])

    add("owned" if owned else "posts", own_posts)
    add("posts", others)
    add("owned" if owned else "follows", len(contacts))
    add("users", 1)  # the profile
    return Bill(sum(m for _, m in kinds.values()), kinds)


def run(workdir: Path, *, quick: bool, output: Path | None, argv: list[str]) -> dict[str, Any]:
    size = QUICK if quick else WORLD
    args = world_args(size)
    results: list[Scenario] = []
    for name in SCENARIOS:
        owner = name == "owner"
        key = name.replace(" ", "-")
        creds = None if owner else {"TWITTER_BEARER_TOKEN": BEARER_TOKEN}
        with emulator(*args, log=workdir / f"cost-{key}.emulator.log") as emu:
            floor = least(emu, size["per_following"], owned=owner)
            b0 = bill(emu)
            first = crawl(emu.url, workdir, f"cost-{key}", credentials=creds, settings={
                "TWITTER_COST_LEDGER_DIR": str(workdir / f"ledger-{key}-day0")})
            b1 = bill(emu)
            advance_day(emu)
            # The crawler's ledger counts real UTC days; a new ledger is its next day.
            rerun = crawl(emu.url, workdir, f"cost-{key}", fresh=False, credentials=creds, settings={
                "TWITTER_COST_LEDGER_DIR": str(workdir / f"ledger-{key}-day1")})
            b2 = bill(emu)
            advance_day(emu)
            cmd = [sys.executable, "-m", "bench.twarc2style", "--api", emu.url, "--handle", "alice",
                   "--out", str(workdir / f"twarc2-{key}.jsonl"),
                   "--following-tweets", str(size["per_following"]), *([] if owner else ["--bearer"])]
            twarc_run = run_process(cmd, workdir / f"twarc2-{key}.log", stdout=workdir / f"twarc2-{key}.json")
            if twarc_run.usage.returncode != 0:
                raise RuntimeError(f"twarc2-style importer failed: {(workdir / f'twarc2-{key}.log').read_text()[-2000:]}")
            b3 = bill(emu)
        s = Scenario(name, b1.minus(b0), first.stat("twitter/cost/micro_usd"), floor, b2.minus(b1),
                     rerun.stat("twitter/cost/micro_usd"), b3.minus(b2), first, rerun, twarc_run)
        results.append(s)
        print(f"  cost {name}: first ${s.first.micro / MICRO:,.2f} (least ${floor.micro / MICRO:,.2f}), "
              f"rerun ${s.rerun.micro / MICRO:,.2f}, twarc2-style ${s.twarc.micro / MICRO:,.2f}", flush=True)
    body = render(results, args, size, argv)
    print(body)
    if output is not None:
        write_section("cost", body, output)
    return {s.name: {"first": s.first.micro, "least": s.least.micro, "rerun": s.rerun.micro,
                     "twarc": s.twarc.micro} for s in results}


def usd(micro: int) -> str:
    return f"${micro / MICRO:,.2f}"


def render(results: list[Scenario], args: list[str], size: dict[str, int], argv: list[str]) -> str:
    rows = []
    for s in results:
        ratio = s.rerun.micro / s.first.micro if s.first.micro else 0.0
        rows.append([
            s.name,
            f"{usd(s.first.micro)} (meter {usd(s.meter_first)})",
            usd(s.least.micro),
            f"{s.first.micro / s.least.micro:.3f}" if s.least.micro else "–",
            f"{usd(s.rerun.micro)} (meter {usd(s.meter_rerun)})",
            f"**{ratio:.2%}** ({'met' if ratio <= RERUN_TARGET else 'not met'}: ≤ 5%, goal 1%)",
            usd(s.twarc.micro),
            f"{s.twarc.micro / s.first.micro:.0%}" if s.first.micro else "–",
            f"{s.twarc.micro / s.rerun.micro:,.0f}×" if s.rerun.micro else "∞",
        ])
    details = []
    for s in results:
        details += [
            f"* **{s.name}**: first import {s.first.describe()} "
            f"({s.first_run.usage.wall:,.0f} s); least {s.least.describe()}; unchanged rerun "
            f"{s.rerun.describe()} ({s.rerun_run.usage.wall:,.0f} s); twarc2-style {s.twarc.describe()} "
            f"({s.twarc_run.usage.wall:,.0f} s).",
        ]
    return "\n".join([
        "## What an import costs (pay-per-use)",
        "",
        provenance(argv),
        "",
        f"World: `python -m twitter_emulator {' '.join(args)}` ({size['followers']:,} followers, "
        f"{size['followings']:,} followings, {size['tweets']:,} own posts, {size['per_following']} per "
        "following); the emulator bills every /2 answer as X does (per resource, Owned Reads, a resource "
        "read again the same UTC day free; `includes` not billed). *owner*: the imported account's own "
        "user-context token, the app's owner (Owned Reads $0.001); *app token*: the app-only bearer "
        "token. Each row: our first import into a fresh SQLite store, then (billing clock +1 day) our "
        "unchanged rerun into the same store, then (+1 day) a twarc2-style importer "
        "(`bench/twarc2style.py`: no state, every page again, twarc2's expansions). Amounts are the "
        "emulator's bill; *meter*: the crawler's own `twitter/cost/usd`. *Least*: each resource the "
        "data needs, billed once (the world's counts, not the crawl's).",
        "",
        table(["token", "first import", "least its data can cost", "first ÷ least",
               "unchanged rerun (ours)", "rerun ÷ first", "twarc2-style rerun", "twarc2 ÷ first",
               "twarc2 ÷ ours"], rows),
        "",
        *details,
    ])
