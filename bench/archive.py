"""Benchmark: the import of X's archive into SQLite (issue 17).

``python -m twitter_emulator.archive`` writes a large synthetic archive of the emulator's world
(two tweets parts, the world's share of photos, videos and GIFs with their files); ``scrapy crawl
archive -a path=ZIP`` imports it into a fresh SQLite store, as a user runs it (no emulator: the
import sends no request). Figures:

* **tweets/s**: the archive's tweets ÷ seconds from launching ``scrapy crawl`` to the commit of
  the last store batch (``bench.statscollector``), as the throughput benchmark counts; *from
  spider open* leaves Python's and Scrapy's start-up out. Target ≥ 20,000 tweets/s.
* **peak memory**: the largest sum of the resident memory of the crawl process and its children
  (the archive's reading process, the store's writing process), sampled every 0.1 s; and the crawl
  process's own ``ru_maxrss`` (``os.wait4``). Target < 300 MB for 200,000 tweets, all processes
  together.

Two configurations of the same world: the archive with its media files (each read from the ZIP,
hashed and written to the store's file area), and the same archive without them (the tweets and
edges alone).

With ``--compare REV`` the same archives are also imported by commit ``REV``'s crawler (a ``git
worktree`` of it), run after run in alternating order, and a second table gives both rates and their
ratio: on a shared machine only figures of one run compare.

Each tree's sources are compiled first (``compileall``), as an installed package is: where
``PYTHONDONTWRITEBYTECODE`` is set (as on the project's machines), every process of every run
would otherwise compile them again, and a fresh worktree all of them (about 0.2 s a process).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from bench.harness import ROOT, Run, checkout, child_env, drop_checkout, median, run_process, spread
from bench.report import provenance, table, write_section

TWEETS = 200_000
QUICK_TWEETS = 20_000
TARGET_RATE = 20_000
TARGET_RSS_MB = 300
CONFIGS = (("with media files", []), ("without media files", ["--no-media"]))


def make_archive(out: Path, tweets: int, extra: list[str]) -> None:
    cmd = [sys.executable, "-m", "twitter_emulator.archive", "--out", str(out), "--tweets", str(tweets),
           "--parts", "2", "--followers", "5000", "--followings", "500", "--likes", "5000", *extra]
    subprocess.run(cmd, check=True, cwd=ROOT, env=child_env(), stdout=subprocess.DEVNULL)  # noqa: S603


def import_once(archive: Path, workdir: Path, name: str, root: Path = ROOT) -> Run:
    import json

    db = workdir / f"{name}.sqlite3"
    stats_file = workdir / f"{name}.stats.json"
    for leftover in (db, Path(f"{db}-wal"), Path(f"{db}-shm"), stats_file):
        leftover.unlink(missing_ok=True)
    files = db.with_name(f"{db.stem}.files")
    if files.exists():
        subprocess.run(["rm", "-rf", str(files)], check=True)  # noqa: S603, S607
    cmd = [sys.executable, "-m", "scrapy", "crawl", "archive", "-a", f"path={archive}",
           "-s", f"POD_URL=sqlite:///{db}", "-s", "STATS_CLASS=bench.statscollector.BenchStatsCollector",
           "-s", f"BENCH_STATS_FILE={stats_file}"]
    run = run_process(cmd, workdir / f"{name}.log", root=root)
    if stats_file.exists():
        data = json.loads(stats_file.read_text(encoding="utf-8"))
        run.stats, run.times = data["stats"], data["times"]
    if run.usage.returncode != 0 or run.stats.get("finish_reason") != "finished":
        raise RuntimeError(f"archive import {name} failed (exit {run.usage.returncode}); see {run.log}")
    return run


def run(workdir: Path, *, quick: bool, repeat: int, output: Path | None, argv: list[str],
        compare: str | None = None) -> None:
    tweets = QUICK_TWEETS if quick else TWEETS
    trees = {"this tree": ROOT}
    if compare:
        trees[compare] = checkout(compare, workdir)
    rows, compare_rows = [], []
    for root in trees.values():
        subprocess.run([sys.executable, "-m", "compileall", "-q", "twitter_crawler"],  # noqa: S603
                       cwd=root, check=True, stdout=subprocess.DEVNULL)
    try:
        for label, extra in CONFIGS:
            archive = workdir / f"archive-{'media' if not extra else 'nomedia'}.zip"
            print(f"writing a {tweets:,}-tweet archive ({label})", flush=True)
            make_archive(archive, tweets, extra)
            runs: dict[str, list[Run]] = {tree: [] for tree in trees}
            for i in range(repeat):
                order = list(trees.items()) if i % 2 == 0 else list(trees.items())[::-1]
                for tree, root in order:
                    run_ = import_once(archive, workdir, f"archive-{len(rows)}-{i}-{tree.replace(' ', '-')}", root)
                    runs[tree].append(run_)
                    print(f"  {label}, {tree}: {run_.stat('twitter/archive/tweets'):,} tweets in "
                          f"{run_.to_last_commit:,.1f} s = {_rate(run_):,.0f} tweets/s, "
                          f"peak memory {run_.usage.tree_rss_mb:,.0f} MB in all "
                          f"({run_.usage.max_rss_mb:,.0f} MB the crawl process)", flush=True)
            rows.append(_row(label, runs["this tree"]))
            if compare:
                new = [_rate(r) for r in runs["this tree"]]
                before = [_rate(r) for r in runs[compare]]
                compare_rows.append([label, spread(before, "{:,.0f}"), spread(new, "{:,.0f}"),
                                     f"**{median(new) / median(before):.2f}**",
                                     spread([r.usage.tree_rss_mb for r in runs[compare]], "{:,.0f}"),
                                     spread([r.usage.tree_rss_mb for r in runs["this tree"]], "{:,.0f}")])
    finally:
        if compare:
            drop_checkout(trees[compare])
    body = "\n".join([
        "## Archive import into SQLite (issue 17)",
        "",
        provenance(argv),
        "",
        f"A synthetic archive of {tweets:,} tweets in two parts (`python -m twitter_emulator.archive "
        "--tweets N --parts 2 --followers 5000 --followings 500 --likes 5000`), imported with "
        "`scrapy crawl archive -a path=ZIP` into a fresh SQLite store; no emulator runs, no request is "
        f"sent. *tweets/s* = the archive's tweets ÷ seconds from launch to the last store commit "
        f"(target ≥ {TARGET_RATE:,}); *from spider open* leaves the start-up out; *peak memory* is "
        "the largest sum of the resident memory of the crawl process and its children (the "
        "archive's reading process, the store's writing process), sampled every 0.1 s (target < "
        f"{TARGET_RSS_MB} MB for 200,000 tweets); *crawl process* is its own `ru_maxrss`. "
        "With media files, start it minutes after any deletion of many files: on an ext4 "
        "without a journal (as on this machine), a new file's inode is found by a scan that "
        "skips those freed in the last 60 s (360 s while not written back), and creating the "
        "47,860 files took 10 s of kernel time instead of 2 right after a test run's clean-up "
        "(both trees alike).",
        "",
        table(["configuration", "tweets", "tweets/s", "target ≥ 20,000/s", "tweets/s from spider open",
               "seconds", "peak memory MB, all processes", "target < 300 MB", "crawl process MB",
               "media files stored", "CPU/wall (all processes)"], rows),
    ])
    if compare:
        body += "\n".join([
            "",
            "",
            f"Side by side in the same run: each import also run by commit `{compare}`'s crawler (a `git "
            "worktree` of it), alternating which goes first.",
            "",
            table(["configuration", f"tweets/s, `{compare}`", "tweets/s, this tree", "this tree ÷ older",
                   f"peak memory MB, `{compare}`", "peak memory MB, this tree"], compare_rows),
        ])
    print(body)
    if output is not None:
        write_section("archive", body, output)


def _rate(run_: Run) -> float:
    return float(run_.stat("twitter/archive/tweets")) / run_.to_last_commit


def _row(label: str, runs: list[Run]) -> list[str]:
    rates = [_rate(r) for r in runs]
    opened = [float(r.stat("twitter/archive/tweets")) / (r.last_commit - float(r.stat("start_time", r.started_at)))
              for r in runs]
    rss = [r.usage.tree_rss_mb for r in runs]
    last = runs[-1]
    return [
        label, f"{last.stat('twitter/archive/tweets'):,}", spread(rates, "{:,.0f}"),
        "met" if median(rates) >= TARGET_RATE else f"not met ({median(rates) / TARGET_RATE:.0%})",
        spread(opened, "{:,.0f}"), spread([r.to_last_commit for r in runs]), spread(rss, "{:,.0f}"),
        "met" if max(rss) < TARGET_RSS_MB else "not met",
        spread([r.usage.max_rss_mb for r in runs], "{:,.0f}"),
        f"{last.stat('twitter/archive/files'):,}", spread([r.usage.cpu / r.usage.wall for r in runs], "{:.2f}"),
    ]
