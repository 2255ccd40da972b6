"""Benchmark 2: quota efficiency under Twitter's documented quotas, time compressed by F.

Every time constant of a real import is divided by F: the 15-minute window (``--window 900/F``),
a per-request latency of 150 ms (``--latency 0.15/F``) and the crawler's margin after a reset
(``TWITTER_RATELIMIT_MARGIN=1/F``). The quotas per window are Twitter's. Two things do not
shrink: ``x-rate-limit-reset`` is a whole epoch second (up to 1 s later than the window's end),
and the work of the processes (start-up, parsing, storing).

Quota efficiency = wall time (launch of ``scrapy crawl`` → last store commit) ÷ the least time
the quotas allow for the same requests (:mod:`bench.plan`), with the plan's requests checked
against the emulator's log.

Worlds:

* *realistic* (the issue's): 10,000 followers, 500 followings, 3,200 own tweets, 5 tweets per
  following. The crawl reads followers with ``followers/ids`` + ``users/lookup`` and needs no
  waiting window at all: its minimum is the latency floor, so the ratio measures fixed costs.
* *quota-bound*: 1,000 followers and 2,700 followings (3,200 own tweets, 5 per following), so
  that ``statuses/user_timeline`` needs 2,715 requests at 900 per window: three windows of waiting,
  each longer than the work its 900 answers bring, which is where parking is measured.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import plan as planning, reqlog
from bench.harness import Run, crawl, emulator, median, spread
from bench.report import provenance, table, write_section

REALISTIC = {"followers": 10_000, "followings": 500, "tweets": 3200, "per_following": 5}
BOUND = {"followers": 1_000, "followings": 2_700, "tweets": 3200, "per_following": 5}
QUICK_REALISTIC = {"followers": 4_000, "followings": 50, "tweets": 400, "per_following": 5}
QUICK_BOUND = {"followers": 4_000, "followings": 950, "tweets": 400, "per_following": 5}
TARGET = 1.10


def world_args(size: dict[str, int], factor: float) -> list[str]:
    """A world with Twitter's quotas, time compressed by ``factor``. Protected and suspended
    followings as the emulator's defaults (one each): a realistic world has them."""
    return ["--handle", "alice", "--followers", str(size["followers"]), "--followings", str(size["followings"]),
            "--tweets", str(size["tweets"]), "--following-tweets", str(size["per_following"]),
            "--quotas", "on", "--window", f"{900 / factor:g}", "--latency", f"{0.15 / factor:g}"]


def crawler_settings(factor: float) -> dict[str, str]:
    # Over v1.1, explicitly: the plan (bench.plan) and the quotas it is held to are v1.1's
    # endpoints; the crawl's default is v2 since 8540add.
    return {"TWITTER_RATELIMIT_MARGIN": f"{1.0 / factor:g}", "TWITTER_API_VERSION": "1.1"}


@dataclass
class QuotaRun:
    run: Run
    facts: reqlog.LogFacts
    plan: planning.Plan  # what the crawl must request with the strategies it chose
    best: planning.Plan  # the fastest correct plan
    window: float
    latency: float

    @property
    def minimum(self) -> float:
        return self.best.minimum(self.window, self.latency)

    @property
    def wall(self) -> float:
        return self.run.to_last_commit

    @property
    def efficiency(self) -> float:
        return self.wall / self.minimum

    @property
    def startup(self) -> float:
        """Launch → first API request (Python, Scrapy, store opening)."""
        return self.facts.first - self.run.started_at

    @property
    def tail(self) -> float:
        """Last API request → last store commit."""
        return self.run.last_commit - self.facts.last


def crawl_under_quotas(workdir: Path, name: str, size: dict[str, int], factor: float) -> QuotaRun:
    window, latency = 900 / factor, 0.15 / factor
    with emulator(*world_args(size, factor), log=workdir / f"{name}.emulator.log") as emu:
        summary = emu.get_json("/_emulator/world")
        run = crawl(emu.url, workdir, name, args={"following_tweets": str(size["per_following"])},
                    settings=crawler_settings(factor))
        entries = reqlog.fetch(emu)
    facts = reqlog.analyse(entries, latency, window)
    strategies = {"follower": run.stat("twitter/spider/strategy/follower", "list"),
                  "following": run.stat("twitter/spider/strategy/following", "list")}
    chosen = planning.crawl_plan(summary, size["per_following"], strategies)
    best = planning.best_crawl_plan(summary, size["per_following"], window, latency)
    return QuotaRun(run, facts, chosen, best, window, latency)


def scenarios(quick: bool, factor: float) -> list[tuple[str, dict[str, int], float]]:
    """(label, world, F): the realistic world compressed and in real time, and the quota-bound one."""
    realistic = QUICK_REALISTIC if quick else REALISTIC
    bound = QUICK_BOUND if quick else BOUND
    out = [("realistic", realistic, factor)]
    if not quick:
        out.append(("realistic, real time", realistic, 1.0))
    out.append(("quota-bound", bound, factor))
    return out


def run(workdir: Path, *, quick: bool, repeat: int, factor: float, output: Path | None,
        argv: list[str]) -> dict[str, Any]:
    worlds = scenarios(quick, factor)
    results: dict[str, list[QuotaRun]] = {}
    for label, size, f in worlds:
        results[label] = []
        for i in range(repeat):
            q = crawl_under_quotas(workdir, f"quota-{label.replace(' ', '').replace(',', '-')}-{i}", size, f)
            results[label].append(q)
            print(f"  quota {label} #{i + 1}: {q.wall:.1f} s, minimum {q.minimum:.2f} s, "
                  f"efficiency {q.efficiency:.2f}, {q.facts.requests:,} requests "
                  f"({q.facts.rate_limited} answered 429), peak RSS {q.run.usage.max_rss_mb:.0f} MB", flush=True)
    body = render(results, worlds, factor, argv)
    print(body)
    if output is not None:
        write_section("quota", body, output)
    return {k: [q.efficiency for q in v] for k, v in results.items()}


def render(results: dict[str, list[QuotaRun]], worlds: Any, factor: float, argv: list[str]) -> str:
    window, latency = 900 / factor, 0.15 / factor
    rows = []
    notes = []
    for label, size, f in worlds:
        qs = results[label]
        q0 = qs[0]
        made = q0.facts.by_endpoint
        planned = q0.plan.requests
        match = "as planned" if all(made.get(e, 0) == n for e, n in planned.items()) and \
            sum(made.values()) == q0.plan.total else \
            "planned " + ", ".join(f"{e} {n}" for e, n in sorted(planned.items())) + \
            "; made " + ", ".join(f"{e} {n}" for e, n in sorted(made.items()))
        rows.append([
            f"{label} (F = {f:g})",
            f"{q0.run.stat('twitter/spider/strategy/follower')}/{q0.run.stat('twitter/spider/strategy/following')}",
            spread([q.wall for q in qs], "{:,.2f}"),
            f"{q0.minimum:,.2f}",
            spread([q.efficiency for q in qs], "{:,.2f}"),
            "met" if median([q.efficiency for q in qs]) <= TARGET else "missed",
            spread([q.startup for q in qs], "{:,.2f}"),
            spread([q.facts.span for q in qs], "{:,.2f}"),
            spread([q.tail for q in qs], "{:,.2f}"),
            f"{q0.facts.requests:,} ({sum(q.facts.rate_limited for q in qs)} × 429)",
            spread([float(q.facts.max_in_flight) for q in qs], "{:,.0f}"),
            spread([q.run.usage.max_rss_mb for q in qs], "{:,.0f}"),
        ])
        emu = " ".join(world_args(size, f))
        notes.append(
            f"* **{label}** (F = {f:g}): `python -m twitter_emulator {emu}`, crawled with "
            f"`scrapy crawl twitter -a handle=alice -a following_tweets={size['per_following']} "
            f"-s TWITTER_RATELIMIT_MARGIN={1 / f:g}`. Least time: {q0.best.describe(q0.window, q0.latency)} "
            f"= **{q0.minimum:.2f} s**. The crawl's requests: {match}."
        )
    lines = [
        "## 2. Quota efficiency",
        "",
        provenance(argv),
        "",
        f"Time compressed by **F = {factor:g}** (and once in real time, F = 1): window {window:g} s (900/F), latency {latency * 1000:g} ms "
        f"per request (150 ms/F), crawler margin {1 / factor:g} s (1 s/F); Twitter's quotas per window. "
        "Not compressed: the whole-second `x-rate-limit-reset` (up to 1 s per window) and the processes' "
        "own work. *Least time* = max over endpoints of (windows to wait) × window + the longest chain of "
        "dependent requests × latency (`bench/plan.py`), for the fastest correct plan. *Efficiency* = "
        "wall (launch → last commit) ÷ least time; target ≤ 1.10.",
        "",
        *notes,
        "",
        table(["world", "contacts via (followers/followings)", "wall s", "least s", "efficiency", "target",
               "start-up s (launch → 1st request)", "API phase s", "tail s (last request → last commit)",
               "requests", "max in flight", "peak RSS MB"], rows),
    ]
    return "\n".join(lines)
