"""Shared budgets (issue 18): N ``scrapy crawl`` processes on one token, their rate-limit
budgets in one Redis (``TWITTER_RATELIMIT_REDIS_URL``), against quotas that bind.

Each crawl imports the same account into its own SQLite store, as N workers that share a token
do. The figure is

    wall (launch of the first crawl → last store commit of the last one)
    ÷ the least time the quotas allow for all their requests together

where the least time is, for the requests the emulator logged per (token, endpoint), the most
windows any endpoint of a token must wait (``ceil(n / quota) - 1``) × the window, plus the
longest chain of dependent requests of one crawl × the latency (:mod:`bench.plan`). The target
is ≤ 1.10 with no 429 at all. Then the same four crawls on two tokens (two each; the emulator
accepts a second token with ``--extra-token``, whose quotas are its own): the wall time should
be about half of one token's.

Not compressed: the whole-second ``x-rate-limit-reset`` (the emulator's window really ends at
the second after, so up to 1 s per window) and the processes' start-up.
"""

from __future__ import annotations

import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import plan as planning, reqlog
from bench.harness import Run, crawl, emulator
from bench.report import provenance, table, write_section
from twitter_emulator.quotas import DEFAULT_LIMITS

TIMELINE = "statuses/user_timeline"
SECOND_TOKEN = ("1-bench-second-access-token", "bench-second-access-secret")
TARGET = 1.10


@dataclass(frozen=True)
class Setup:
    window: float
    quota: int  # timeline requests per window and token
    followings: int
    per_following: int = 5
    tweets: int = 200
    latency: float = 0.02
    margin: float = 0.1

    def world(self) -> list[str]:
        return ["--handle", "alice", "--followers", "30", "--followings", str(self.followings),
                "--tweets", str(self.tweets), "--following-tweets", str(self.per_following),
                "--protected-followings", "1", "--suspended-followings", "1", "--seed", "18",
                "--window", f"{self.window:g}", "--latency", f"{self.latency:g}",
                "--quota", f"{TIMELINE}={self.quota}",
                "--extra-token", ":".join(SECOND_TOKEN)]


FULL = Setup(window=15.0, quota=12, followings=40)
QUICK = Setup(window=5.0, quota=12, followings=20)


@dataclass
class Outcome:
    label: str
    crawls: int
    tokens: int
    runs: list[Run]
    entries: list[dict[str, Any]]
    minimum: float
    wall: float
    windows: int

    @property
    def rate_limited(self) -> int:
        return sum(1 for e in self.entries if e.get("status") == 429)

    @property
    def from_first_request(self) -> float:
        """First API request → last store commit: the wall without the processes' start-up."""
        first = min(e["time"] for e in self.entries if e.get("endpoint"))
        return max(r.last_commit for r in self.runs) - first

    @property
    def ratio(self) -> float:
        return self.wall / self.minimum if self.minimum else float("nan")


def least_time(entries: list[dict[str, Any]], setup: Setup, chain: int) -> tuple[float, int]:
    """(least seconds, windows waited) for the logged requests, per token and endpoint."""
    limits = {**DEFAULT_LIMITS, TIMELINE: setup.quota}
    counts: dict[tuple[str, str], int] = {}
    for e in entries:
        if e.get("endpoint") and e.get("status") != 429:
            key = (e.get("token") or "", e["endpoint"])
            counts[key] = counts.get(key, 0) + 1
    windows = max((planning.windows_needed(n, limits.get(ep, 15)) for (_, ep), n in counts.items()), default=0)
    return windows * setup.window + chain * setup.latency, windows


def run_case(workdir: Path, setup: Setup, label: str, crawls: int, tokens: int, redis_url: str) -> Outcome:
    name = f"shared-{label.replace(' ', '-').replace(',', '')}"
    with emulator(*setup.world(), log=workdir / f"{name}.emulator.log") as emu:
        summary = emu.get_json("/_emulator/world")

        def one(i: int) -> Run:
            # API v1.1: bench.plan (the chain of dependent requests) models its requests; the
            # budgets are the same code for v2.
            settings = {"TWITTER_RATELIMIT_REDIS_URL": redis_url, "TWITTER_RATELIMIT_MARGIN": f"{setup.margin:g}",
                        "TWITTER_CONTACTS_STRATEGY": "list", "TWITTER_API_VERSION": "1.1"}
            if tokens == 2 and i % 2:
                settings.update({"TWITTER_ACCESS_TOKEN": SECOND_TOKEN[0], "TWITTER_ACCESS_SECRET": SECOND_TOKEN[1]})
            return crawl(emu.url, workdir, f"{name}-{i}", args={"following_tweets": str(setup.per_following)},
                         settings=settings, timeout=1800)

        with ThreadPoolExecutor(crawls) as pool:
            runs = list(pool.map(one, range(crawls)))
        entries = reqlog.fetch(emu)
    chain = planning.crawl_plan(summary, setup.per_following, {"follower": "list", "following": "list"}).chain
    minimum, windows = least_time(entries, setup, chain)
    wall = max(r.last_commit for r in runs) - min(r.started_at for r in runs)
    return Outcome(label, crawls, tokens, runs, entries, minimum, wall, windows)


def run(workdir: Path, *, quick: bool, repeat: int, output: Path | None, argv: list[str]) -> list[Outcome]:
    from tests.support.servers import RedisServer  # the tests' real redis-server launcher

    setup = QUICK if quick else FULL
    cases = [("1 crawl, 1 token", 1, 1), ("2 crawls, 1 token", 2, 1), ("4 crawls, 1 token", 4, 1),
             ("4 crawls, 2 tokens", 4, 2)]
    outcomes: list[Outcome] = []
    with tempfile.TemporaryDirectory(prefix="bench-redis-") as tmp, RedisServer(Path(tmp)) as redis:
        for label, n, tokens in cases:
            for i in range(repeat):
                o = run_case(workdir, setup, f"{label} {i}", n, tokens, redis.url)
                o.label = label
                outcomes.append(o)
                print(f"  {label} #{i + 1}: wall {o.wall:.1f} s, least {o.minimum:.1f} s "
                      f"({o.windows} windows), ratio {o.ratio:.2f}, {len(o.entries):,} requests, "
                      f"{o.rate_limited} × 429", flush=True)
    body = render(outcomes, setup, argv)
    print(body)
    if output is not None:
        write_section("sharedbudget", body, output)
    return outcomes


def render(outcomes: list[Outcome], setup: Setup, argv: list[str]) -> str:
    rows = []
    by_label: dict[str, list[Outcome]] = {}
    for o in outcomes:
        by_label.setdefault(o.label, []).append(o)
    for label, os_ in by_label.items():
        o = min(os_, key=lambda x: x.ratio)  # figures of each run below
        rows.append([
            label,
            ", ".join(f"{x.wall:.1f}" for x in os_),
            f"{o.minimum:.1f} ({o.windows} × {setup.window:g} s)",
            ", ".join(f"{x.ratio:.2f}" for x in os_),
            ", ".join(f"{x.from_first_request / x.minimum:.2f}" for x in os_),
            "met" if all(x.ratio <= TARGET for x in os_) else "missed",
            ", ".join(f"{len(x.entries):,}" for x in os_),
            ", ".join(str(x.rate_limited) for x in os_),
        ])
    one = [o.wall for o in by_label.get("4 crawls, 1 token", [])]
    two = [o.wall for o in by_label.get("4 crawls, 2 tokens", [])]
    half = (f"Four crawls on two tokens took **{min(two) / min(one):.2f}×** the time of four on one token "
            f"(about half expected: each token's quota serves two crawls)." if one and two else "")
    emu = " ".join(setup.world())
    lines = [
        "## Shared budgets: several crawls on one token (Redis)",
        "",
        provenance(argv),
        "",
        f"N `scrapy crawl twitter -a handle=alice -a following_tweets={setup.per_following}` processes at once, each "
        f"into its own SQLite store, with `TWITTER_RATELIMIT_REDIS_URL` (a local redis-server), "
        f"`TWITTER_RATELIMIT_MARGIN={setup.margin:g}`, `TWITTER_CONTACTS_STRATEGY=list`, `TWITTER_API_VERSION=1.1` "
        f"(whose requests `bench/plan.py` models; the budgets are the same code for v2), against "
        f"`python -m twitter_emulator {emu}`: a {setup.window:g}-second window of {setup.quota} timeline "
        f"requests per token (the other endpoints at Twitter's quotas per window), {setup.latency * 1000:g} ms "
        "per answer. *Least* = for all the requests of the N crawls as the emulator logged them, the most "
        "windows any endpoint of a token must wait (`ceil(n / quota) - 1`) × the window, plus the longest "
        "chain of dependent requests × the latency. *Ratio* = wall (first launch → last store commit of "
        f"the last crawl) ÷ least; target ≤ {TARGET:.2f}, with no 429. Not compressed: the whole-second "
        "`x-rate-limit-reset` (up to 1 s per window) and the start-up of each process (Python, Scrapy: "
        "1-3 s on this shared machine); *ratio from the 1st request* leaves the start-up out.",
        "",
        table(["crawls", "wall s", "least s", "ratio", "ratio from the 1st request", "target", "requests", "429s"],
              rows),
        "",
        half,
    ]
    return "\n".join(lines)


