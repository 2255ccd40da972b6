"""Benchmark: the import of X's archive into SQLite (issue 17).

``python -m twitter_emulator.archive`` writes a large synthetic archive of the emulator's world
(two tweets parts, the world's share of photos, videos and GIFs with their files); ``scrapy crawl
archive -a path=ZIP`` imports it into a fresh SQLite store, as a user runs it (no emulator: the
import sends no request). Figures:

* **tweets/s**: the archive's tweets ÷ seconds from launching ``scrapy crawl`` to the commit of
  the last store batch (``bench.statscollector``), as the throughput benchmark counts; *from
  spider open* leaves Python's and Scrapy's start-up out. Target ≥ 20,000 tweets/s.
* **peak RSS**: the crawl process's ``ru_maxrss`` (``os.wait4``). Target < 300 MB for 200,000
  tweets.

Two configurations of the same world: the archive with its media files (each read from the ZIP,
hashed and written to the store's file area), and the same archive without them (the tweets and
edges alone).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from bench.harness import ROOT, Run, child_env, median, run_process, spread
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


def import_once(archive: Path, workdir: Path, name: str) -> Run:
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
    run = run_process(cmd, workdir / f"{name}.log")
    if stats_file.exists():
        data = json.loads(stats_file.read_text(encoding="utf-8"))
        run.stats, run.times = data["stats"], data["times"]
    if run.usage.returncode != 0 or run.stats.get("finish_reason") != "finished":
        raise RuntimeError(f"archive import {name} failed (exit {run.usage.returncode}); see {run.log}")
    return run


def run(workdir: Path, *, quick: bool, repeat: int, output: Path | None, argv: list[str]) -> None:
    tweets = QUICK_TWEETS if quick else TWEETS
    rows = []
    for label, extra in CONFIGS:
        archive = workdir / f"archive-{'media' if not extra else 'nomedia'}.zip"
        print(f"writing a {tweets:,}-tweet archive ({label})", flush=True)
        make_archive(archive, tweets, extra)
        rates, opened_rates, seconds, rss, cpu = [], [], [], [], []
        run_ = None
        for i in range(repeat):
            run_ = import_once(archive, workdir, f"archive-{len(rows)}-{i}")
            imported = run_.stat("twitter/archive/tweets")
            span = run_.to_last_commit
            opened = run_.last_commit - float(run_.stat("start_time", run_.started_at))
            rates.append(imported / span)
            opened_rates.append(imported / opened)
            seconds.append(span)
            rss.append(run_.usage.max_rss_mb)
            cpu.append(run_.usage.cpu / run_.usage.wall)
            print(f"  {label}: {imported:,} tweets in {span:,.1f} s = {rates[-1]:,.0f} tweets/s, "
                  f"peak RSS {rss[-1]:,.0f} MB", flush=True)
        assert run_ is not None
        rows.append([
            label, f"{run_.stat('twitter/archive/tweets'):,}", spread(rates, "{:,.0f}"),
            "met" if median(rates) >= TARGET_RATE else f"not met ({median(rates) / TARGET_RATE:.0%})",
            spread(opened_rates, "{:,.0f}"), spread(seconds), spread(rss, "{:,.0f}"),
            "met" if max(rss) < TARGET_RSS_MB else "not met",
            f"{run_.stat('twitter/archive/files'):,}", spread(cpu, "{:.2f}"),
        ])
    body = "\n".join([
        "## Archive import into SQLite (issue 17)",
        "",
        provenance(argv),
        "",
        f"A synthetic archive of {tweets:,} tweets in two parts (`python -m twitter_emulator.archive "
        "--tweets N --parts 2 --followers 5000 --followings 500 --likes 5000`), imported with "
        "`scrapy crawl archive -a path=ZIP` into a fresh SQLite store; no emulator runs, no request is "
        f"sent. *tweets/s* = the archive's tweets ÷ seconds from launch to the last store commit "
        f"(target ≥ {TARGET_RATE:,}); *from spider open* leaves the start-up out; peak RSS is the "
        f"crawl process's `ru_maxrss` (target < {TARGET_RSS_MB} MB for 200,000 tweets).",
        "",
        table(["configuration", "tweets", "tweets/s", "target ≥ 20,000/s", "tweets/s from spider open",
               "seconds", "peak RSS MB", "target < 300 MB", "media files stored", "crawl CPU/wall"], rows),
    ])
    print(body)
    if output is not None:
        write_section("archive", body, output)
