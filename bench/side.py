"""Benchmark 3: twitter_crawler side by side with the original plugin's approach (``bench.baseline``).

Both import the realistic world of the quota benchmark (10,000 followers, 500 followings, 3,200
own tweets, 5 tweets per following) under Twitter's quotas with time compressed by F, each from a
fresh emulator (fresh quotas, its own request log), one after the other, in alternating order,
in the same run. Both write to the embedded SQLite store through the project's parser.

From each emulator's request log: the requests made (429 answers included), the most requests in
flight at once, and every gap longer than half a window (with the endpoint, the answer before it,
and how long after that endpoint's window had started the next request came).
"""

from __future__ import annotations

import importlib.util
import json
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import plan as planning, reqlog
from bench.harness import Run, emulator, median, run_process, spread
from bench.quota import QUICK_REALISTIC, REALISTIC, QuotaRun, crawl_under_quotas, world_args
from bench.report import provenance, table, write_section

TARGET = 10.0


@dataclass
class BaselineRun:
    run: Run
    facts: reqlog.LogFacts
    plan: planning.Plan
    window: float
    latency: float
    entries: list[dict[str, Any]]

    @property
    def wall(self) -> float:
        return self.run.result.get("last_commit", self.run.started_at + self.run.usage.wall) - self.run.started_at

    @property
    def minimum(self) -> float:
        return self.plan.minimum(self.window, self.latency)


def run_baseline(workdir: Path, name: str, size: dict[str, int], factor: float) -> BaselineRun:
    window, latency = 900 / factor, 0.15 / factor
    with emulator(*world_args(size, factor), log=workdir / f"{name}.emulator.log") as emu:
        summary = emu.get_json("/_emulator/world")
        out = workdir / f"{name}.json"
        (workdir / f"{name}.sqlite3").unlink(missing_ok=True)
        cmd = [sys.executable, "-m", "bench.baseline", "--api", emu.url, "--handle", "alice",
               "--db", str(workdir / f"{name}.sqlite3"), "--following-tweets", str(size["per_following"])]
        run = run_process(cmd, workdir / f"{name}.log", stdout=out)
        if run.usage.returncode != 0:
            raise RuntimeError(f"baseline failed: see {run.log}")
        run.result = json.loads(out.read_text(encoding="utf-8"))
        entries = reqlog.fetch(emu)
    facts = reqlog.analyse(entries, latency, window)
    return BaselineRun(run, facts, planning.baseline_plan(summary, size["per_following"]), window, latency, entries)


def run(workdir: Path, *, quick: bool, repeat: int, factor: float, output: Path | None,
        argv: list[str]) -> dict[str, Any]:
    if importlib.util.find_spec("tweepy") is None:
        raise SystemExit("The side-by-side benchmark needs tweepy: pip install -e '.[bench]'")
    size = QUICK_REALISTIC if quick else REALISTIC
    pairs: list[tuple[QuotaRun, BaselineRun]] = []
    realtime: list[QuotaRun] = []
    for i in range(repeat):
        ours = base = None
        for who in (("crawler", "baseline") if i % 2 == 0 else ("baseline", "crawler")):
            if who == "crawler":
                ours = crawl_under_quotas(workdir, f"side-crawler-{i}", size, factor)
                print(f"  side #{i + 1} twitter_crawler: {ours.wall:.1f} s, {ours.facts.requests:,} requests", flush=True)
            else:
                base = run_baseline(workdir, f"side-baseline-{i}", size, factor)
                print(f"  side #{i + 1} baseline: {base.wall:.1f} s, {base.facts.requests:,} requests, "
                      f"{len(base.facts.long_gaps)} waits", flush=True)
        assert ours is not None and base is not None
        pairs.append((ours, base))
        if not quick:
            rt = crawl_under_quotas(workdir, f"side-crawler-realtime-{i}", size, 1.0)
            realtime.append(rt)
            print(f"  side #{i + 1} twitter_crawler in real time (F = 1): {rt.wall:.1f} s", flush=True)
    body = render(pairs, realtime, size, factor, argv)
    print(body)
    if output is not None:
        write_section("side", body, output)
    return {"speedup": [b.wall / o.wall for o, b in pairs]}


def _clock(t: float) -> str:
    return datetime.fromtimestamp(t, tz=UTC).strftime("%H:%M:%S.%f")[:-3]


def render(pairs: list[tuple[QuotaRun, BaselineRun]], realtime: list[QuotaRun], size: dict[str, int],
           factor: float, argv: list[str]) -> str:
    window, latency = 900 / factor, 0.15 / factor
    ours = [o for o, _ in pairs]
    base = [b for _, b in pairs]
    speed = [b.wall / o.wall for o, b in pairs]
    req_ratio = [b.facts.requests / o.facts.requests for o, b in pairs]

    def row(label: str, walls: list[float], reqs: list[Any], mins: list[float], inflight: list[float],
            r429: list[int], rss: list[float], cpu: list[float], tweets: list[int]) -> list[str]:
        return [label, spread(walls, "{:,.1f}"), spread([float(r.requests) for r in reqs], "{:,.0f}"),
                spread([float(x) for x in r429], "{:,.0f}"), spread(inflight, "{:,.0f}"),
                f"{mins[0]:,.2f}", spread([w / m for w, m in zip(walls, mins, strict=False)], "{:,.2f}"),
                spread(cpu, "{:,.1f}"), spread(rss, "{:,.0f}"), f"{median([float(t) for t in tweets]):,.0f}"]

    rows = [
        row("twitter_crawler", [o.wall for o in ours], [o.facts for o in ours], [o.minimum for o in ours],
            [float(o.facts.max_in_flight) for o in ours], [o.facts.rate_limited for o in ours],
            [o.run.usage.max_rss_mb for o in ours], [o.run.usage.cpu for o in ours],
            [o.plan.timeline_tweets for o in ours]),
        row("tweepy baseline", [b.wall for b in base], [b.facts for b in base], [b.minimum for b in base],
            [float(b.facts.max_in_flight) for b in base], [b.facts.rate_limited for b in base],
            [b.run.usage.max_rss_mb for b in base], [b.run.usage.cpu for b in base],
            [b.run.result.get("tweets", 0) for b in base]),
    ]
    b0 = base[0]
    gaps = [[g.after["endpoint"], str(g.after.get("status")), g.before["endpoint"], _clock(g.after["time"]),
             f"{g.seconds:,.2f}", f"{g.window_started:,.2f}", f"{g.window_started / window:.3f}"]
            for g in b0.facts.long_gaps]
    sleeps = b0.run.result.get("sleeps", [])
    slept = ", ".join(f"{s['seconds']:g} s" for s in sleeps) or "none"
    eps = ", ".join(f"{e} {n:,}" for e, n in sorted(b0.facts.by_endpoint.items()))
    o_eps = ", ".join(f"{e} {n:,}" for e, n in sorted(ours[0].facts.by_endpoint.items()))
    projection = ""
    if realtime:
        base_least = b0.plan.minimum(900.0, 0.15)
        rt = [q.wall for q in realtime]
        projection = (
            f"**In real time (F = 1)** the waits do not shrink and the work does not grow: twitter_crawler, run "
            f"on the same world with a 900 s window and 150 ms latency, took {spread(rt, '{:,.1f}')} s; the "
            f"baseline cannot take less than its least time under the quotas, {base_least:,.0f} s "
            f"({b0.plan.describe(900.0, 0.15)}), and took {spread([b.wall / b.minimum for b in base], '{:,.2f}')}× "
            f"its least time here. So in real time twitter_crawler is **at least "
            f"{base_least / median(rt):,.0f}× faster**. The compressed ratio above is lower because "
            "compression shrinks the baseline's waits but not twitter_crawler's processing."
        )
    lines = [
        "## 3. Side by side with the original plugin's approach",
        "",
        provenance(argv),
        "",
        f"World: `python -m twitter_emulator {' '.join(world_args(size, factor))}` (F = {factor:g}: "
        f"window {window:g} s, latency {latency * 1000:g} ms), a fresh emulator for each importer, run one "
        "after the other in alternating order. twitter_crawler: `scrapy crawl twitter -a handle=alice "
        f"-a following_tweets={size['per_following']} -s TWITTER_RATELIMIT_MARGIN={1 / factor:g}`. Baseline: "
        f"`python -m bench.baseline --api URL --handle alice --db FILE --following-tweets {size['per_following']}` "
        f"(tweepy {b0.run.result.get('tweepy', '?')} `API(wait_on_rate_limit=True)`, `Cursor` over "
        "`followers/list` and `friends/list` at 200 per page and over the own timeline, one "
        "`user_timeline` per following, one request at a time, each answer parsed with "
        "`twitter_crawler.api.v1.parse` and written to `SQLiteStore` before the next request).",
        "",
        f"**twitter_crawler is {median(speed):,.1f}× faster** ({min(speed):,.1f}–{max(speed):,.1f}, n={len(speed)}; "
        f"wall-time ratio baseline ÷ twitter_crawler, target ≥ {TARGET:g}×). Requests made, baseline ÷ twitter_crawler: "
        f"{spread(req_ratio, '{:,.2f}')}"
        + (" (twitter_crawler makes more: it reads the followers with `followers/ids` and `users/lookup`, "
           "which never wait for a window, instead of `followers/list`, which does)." if median(req_ratio) < 1 else "."),
        "",
        table(["importer", "wall s (launch → last commit)", "requests (429s included)", "429 answers",
               "max in flight", "least s under the quotas", "wall ÷ least", "CPU s", "peak RSS MB",
               "timeline tweets"], rows),
        "",
        projection,
        "",
        f"Requests, first run: twitter_crawler {o_eps}; baseline {eps}.",
        "",
        "Evidence from the baseline's request log (first run):",
        "",
        f"* **Sequential**: of {b0.facts.requests:,} requests, {b0.facts.overlapping} arrived while an "
        f"earlier one was still held by the emulator's {latency * 1000:g} ms latency; at most "
        f"{b0.facts.max_in_flight} in flight at once (twitter_crawler: {ours[0].facts.max_in_flight}, with "
        f"{ours[0].facts.overlapping:,} requests sent while another was in flight).",
        f"* **Waits on rate limits**: {b0.facts.rate_limited} answers were 429; tweepy logged "
        f"{len(sleeps)} sleeps ({slept}). Every gap "
        f"longer than half a window ({window / 2:g} s) between two requests:",
        "",
        table(["endpoint before", "its answer", "endpoint after", "at (UTC)", "gap s",
               "s since that endpoint's window began", "÷ window"], gaps) if gaps else "(no such gap)",
        "",
        "A gap follows a 429 and ends about one window (plus the whole-second reset and tweepy's extra "
        "second) after the endpoint's window began: tweepy slept until the reset, then sent the refused "
        "request again.",
    ]
    return "\n".join(lines)
