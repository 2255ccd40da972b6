"""Benchmark: slow media never hold up the API import (issue #14).

One emulator, one world with photos and profile pictures, API answers held ``--latency`` seconds
each (so the import has a span worth measuring). Each repeat crawls it twice, in rotating order,
into a fresh SQLite store: with media off (``TWITTER_MEDIA=``), and with the crawler's default
``photos,avatars`` while the emulator's media host answers every file ``--media-delay`` seconds
late. The figure is the import's **API span**: from the first to the last API request the
emulator received (its request log, media downloads left out). Media must not stretch it: the
target is at most 1.1 × the span without media. The crawl itself ends later, once the files are
in; that time is reported beside it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import reqlog
from bench.harness import ROOT, Run, checkout, crawl, drop_checkout, emulator, median, spread
from bench.report import provenance, table, write_section

WORLD = {"followers": 100, "followings": 40, "tweets": 2000, "per_following": 20}
QUICK = {"followers": 30, "followings": 10, "tweets": 400, "per_following": 10}
LATENCY = 0.25  # seconds each API answer is held
MEDIA_DELAY = 6.0  # seconds each media file takes
CONCURRENCY = "64"  # media downloads at once: the slow files end in tens of seconds, not minutes
TARGET = 1.10
MODES = ("media off", "media on")


@dataclass
class Measure:
    mode: str
    run: Run
    api_span: float  # seconds from the first to the last API request
    api_requests: int
    media_requests: int


def world_args(size: dict[str, int], delay: float) -> list[str]:
    return ["--handle", "alice", "--followers", str(size["followers"]),
            "--followings", str(size["followings"]), "--tweets", str(size["tweets"]),
            "--following-tweets", str(size["per_following"]), "--protected-followings", "0",
            "--suspended-followings", "0", "--quotas", "off", "--latency", str(LATENCY),
            "--photo-share", "0.1", "--media-delay", str(delay)]


def crawl_once(emu: Any, workdir: Path, name: str, mode: str, per_following: int,
               root: Path = ROOT) -> Measure:
    since = emu.get_json(f"/_emulator/log?since={2**62}")["last_seq"]
    settings = {"TWITTER_MEDIA": "" if mode == MODES[0] else "photos,avatars",
                "TWITTER_MEDIA_CONCURRENCY": CONCURRENCY}
    run = crawl(emu.url, workdir, name, args={"following_tweets": str(per_following)}, settings=settings,
                root=root)
    entries = [e for e in reqlog.fetch(emu) if e["seq"] > since]
    api = [e["time"] for e in entries if not e.get("media")]
    return Measure(mode, run, max(api) - min(api), len(api), sum(1 for e in entries if e.get("media")))


def run(workdir: Path, *, quick: bool, repeat: int, output: Path | None, argv: list[str],
        compare: str | None = None) -> dict[str, Any]:
    """``compare``: also crawl with commit ``compare``'s crawler (a worktree), the same way."""
    size = QUICK if quick else WORLD
    delay = 2.0 if quick else MEDIA_DELAY
    emu_args = world_args(size, delay)
    trees = {"": ROOT}
    if compare:
        trees[compare] = checkout(compare, workdir)
    results: dict[str, list[Measure]] = {f"{mode}{f' ({t})' if t else ''}": [] for t in trees for mode in MODES}
    try:
        with emulator(*emu_args, log=workdir / "mediaspan.emulator.log") as emu:
            for i in range(repeat):
                order = MODES if i % 2 == 0 else MODES[::-1]
                for tree, root in trees.items():
                    for mode in order:
                        label = f"{mode}{f' ({tree})' if tree else ''}"
                        m = crawl_once(emu, workdir, f"mediaspan-{i}-{label.replace(' ', '-')}", mode,
                                       size["per_following"], root)
                        results[label].append(m)
                        print(f"  mediaspan {label} #{i + 1}: API span {m.api_span:.2f} s ({m.api_requests} "
                              f"requests), crawl {m.run.usage.wall:.1f} s, {m.media_requests} media files",
                              flush=True)
    finally:
        for tree, root in trees.items():
            if tree:
                drop_checkout(root)
    body = render(results, size, emu_args, delay, argv)
    print(body)
    if output is not None:
        write_section("mediaspan", body, output)
    return {mode: [m.api_span for m in ms] for mode, ms in results.items()}


def render(results: dict[str, list[Measure]], size: dict[str, int], emu_args: list[str], delay: float,
           argv: list[str]) -> str:
    rows = []
    for label, ms in results.items():
        mode, _, tree = label.partition(" (")
        base = median([m.api_span for m in results[MODES[0] + (f" ({tree}" if tree else "")]])
        spans = [m.api_span for m in ms]
        ratio = median(spans) / base
        what = mode if mode == MODES[0] else f"photos + profile pictures, {delay:g} s a file"
        rows.append([
            what + (f", commit `{tree.rstrip(')')}`" if tree else ""),
            spread(spans, "{:,.2f}"),
            "1.00 (the reference)" if mode == MODES[0]
            else f"**{ratio:.2f}** ({'met' if ratio <= TARGET else 'not met'}: target ≤ {TARGET:.2f})",
            f"{median([m.api_requests for m in ms]):,.0f}",
            spread([m.run.usage.wall for m in ms], "{:,.1f}"),
            f"{median([m.media_requests for m in ms]):,.0f}",
        ])
    return "\n".join([
        "## Slow media and the API import",
        "",
        provenance(argv),
        "",
        f"World: `python -m twitter_emulator {' '.join(emu_args)}`: every API answer is held "
        f"{LATENCY:g} s, every media file {delay:g} s. Each repeat crawls it with media off and with the "
        "default `TWITTER_MEDIA=photos,avatars` (`TWITTER_MEDIA_CONCURRENCY="
        f"{CONCURRENCY}`; Scrapy's total grows with it, the API keeps its 64 places), in alternating order, each into a fresh SQLite store. *API span* = seconds from "
        "the first to the last API request in the emulator's log; *crawl* = the process's wall time, "
        "which with media includes waiting for the last files. Media downloads go on while the API "
        "import proceeds and never hold its answers, so the span must not grow (issue #14: ≤ 1.1×).",
        "",
        table(["crawl", "API span s", "× the span without media", "API requests", "crawl s",
               "media files"], rows),
    ])
