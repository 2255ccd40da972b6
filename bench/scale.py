"""Benchmark 4: how wall time and peak memory grow with the account (quotas off).

Two series, each a full ``scrapy crawl twitter`` into a fresh SQLite file:

* followers: 10,000 and 100,000 followers (the rest small: 10 followings × 5 tweets, 200 own);
* tweets per following: 200 and 3,200 tweets on each of N followings, crawled with
  ``following_tweets`` equal to it (100 followers, 200 own tweets). N is 200 with ``--full``
  (the issue's size: 640,000 tweets, long), 20 by default so that ``all`` stays near 15 minutes.

Linear cost: the time per follower (per tweet) stays the same from the small size to the large
one. Flat memory: the peak RSS of the crawl process does not grow with the size (what does grow,
per item, is shown as MB per 100,000 items).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.harness import Run, crawl, emulator, median, spread
from bench.report import provenance, table, write_section

MEMORY_TARGET_MB = 300.0


@dataclass(frozen=True)
class Case:
    series: str
    label: str
    followers: int
    followings: int
    tweets: int
    per_following: int
    unit: str  # what the cost is per
    units: int  # how many of it

    def args(self) -> list[str]:
        return ["--handle", "alice", "--followers", str(self.followers), "--followings", str(self.followings),
                "--tweets", str(self.tweets), "--following-tweets", str(self.per_following),
                "--protected-followings", "0", "--suspended-followings", "0", "--quotas", "off"]


def cases(quick: bool, full: bool) -> list[Case]:
    if quick:
        f_small, f_large, n, t_small, t_large = 1_000, 10_000, 5, 200, 1_000
    else:
        f_small, f_large, n, t_small, t_large = 10_000, 100_000, 200 if full else 20, 200, 3_200
    return [
        Case("followers", f"{f_small:,} followers", f_small, 10, 200, 5, "follower", f_small),
        Case("followers", f"{f_large:,} followers", f_large, 10, 200, 5, "follower", f_large),
        Case("tweets", f"{t_small:,} tweets × {n} followings", 100, n, 200, t_small, "tweet", t_small * n),
        Case("tweets", f"{t_large:,} tweets × {n} followings", 100, n, 200, t_large, "tweet", t_large * n),
    ]


def run(workdir: Path, *, quick: bool, full: bool, repeat: int, output: Path | None, argv: list[str]) -> dict[str, Any]:
    results: dict[Case, list[Run]] = {}
    emu_cpu: dict[Case, float] = {}
    for case in cases(quick, full):
        results[case] = []
        with emulator(*case.args(), log=workdir / f"scale-{case.series}-{case.units}.emulator.log") as emu:
            for i in range(repeat):
                r = crawl(emu.url, workdir, f"scale-{case.series}-{case.units}-{i}",
                          args={"following_tweets": str(case.per_following)})
                results[case].append(r)
                print(f"  scale {case.label} #{i + 1}: {r.to_last_commit:.1f} s, peak RSS "
                      f"{r.usage.max_rss_mb:.0f} MB, {sum(r.stored.values()):,} items and edges stored", flush=True)
        emu_cpu[case] = emu.usage.cpu / repeat if emu.usage else 0.0
    body = render(results, emu_cpu, full, argv)
    print(body)
    if output is not None:
        write_section("scale-full" if full else "scale", body, output)
    return {c.label: [r.to_last_commit for r in rs] for c, rs in results.items()}


def render(results: dict[Case, list[Run]], emu_cpu: dict[Case, float], full: bool, argv: list[str]) -> str:
    rows = []
    by_series: dict[str, list[Case]] = {}
    for case, runs in results.items():
        by_series.setdefault(case.series, []).append(case)
        walls = [r.to_last_commit for r in runs]
        items = median([float(sum(r.stored.values())) for r in runs])
        rss = [r.usage.max_rss_mb for r in runs]
        rows.append([
            case.label, f"`{' '.join(case.args())}`", spread(walls, "{:,.1f}"),
            f"{median(walls) / case.units * 1e6:,.0f} µs", f"{items:,.0f}",
            spread(rss, "{:,.0f}"), spread([r.usage.cpu for r in runs], "{:,.1f}"), f"{emu_cpu[case]:,.1f}",
        ])
    growth = []
    for series, cs in by_series.items():
        small, large = cs[0], cs[-1]
        ws = median([r.to_last_commit for r in results[small]])
        wl = median([r.to_last_commit for r in results[large]])
        ms = median([r.usage.max_rss_mb for r in results[small]])
        ml = median([r.usage.max_rss_mb for r in results[large]])
        items_s = median([float(sum(r.stored.values())) for r in results[small]])
        items_l = median([float(sum(r.stored.values())) for r in results[large]])
        per_item = (ml - ms) / max(1.0, items_l - items_s) * 100_000
        growth.append(
            f"* **{series}**: {large.units / small.units:g}× the {small.unit}s took {wl / ws:.1f}× the time "
            f"({wl / large.units * 1e6:,.0f} vs {ws / small.units * 1e6:,.0f} µs per {small.unit}: "
            f"{'linear within 15%' if wl / large.units <= 1.15 * ws / small.units else 'worse than linear'}); "
            f"peak RSS went from {ms:,.0f} to {ml:,.0f} MB "
            f"({'flat' if ml <= 1.15 * ms else f'+{per_item:,.0f} MB per 100,000 items and edges stored'})."
        )
    hundred_k = [c for c in results if c.series == "followers" and c.units >= 100_000]
    verdict = ""
    if hundred_k:
        rss = median([r.usage.max_rss_mb for r in results[hundred_k[0]]])
        verdict = (f"Peak memory at 100,000 followers: **{rss:,.0f} MB** (target under {MEMORY_TARGET_MB:g} MB: "
                   f"{'met' if rss < MEMORY_TARGET_MB else 'missed'}).")
    lines = [
        "## 4. Scale" + (" (full sizes)" if full else ""),
        "",
        provenance(argv),
        "",
        "Quotas off, no added latency; each case a fresh emulator, each crawl a fresh SQLite file: "
        "`scrapy crawl twitter -a handle=alice -a following_tweets=N`. Wall = launch → last store commit; "
        "peak RSS of the crawl process (`os.wait4`)."
        + ("" if full else " The tweets series uses 20 followings (not 200) to keep `all` near 15 minutes; "
           "`python -m bench scale --full` runs 200 (its own section)."),
        "",
        table(["case", "emulator world", "wall s", "per unit", "items+edges stored", "peak RSS MB",
               "crawl CPU s", "emulator CPU s"], rows),
        "",
        *growth,
        "",
        verdict,
    ]
    return "\n".join(lines)
