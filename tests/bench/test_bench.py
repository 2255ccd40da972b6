"""The benchmarks still run, and their arithmetic agrees with real crawls (tiny worlds, seconds).

Figures are not checked here: BENCHMARKS.md holds them, made by ``python -m bench all``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench import harness, plan as planning, report, reqlog
from bench.report import marker, write_section
from tests.support.apiversion import V1
from tests.support.crawl import run_crawl
from tests.support.servers import ROOT, ServerProcess

WORLD = ["--handle", "alice", "--followers", "450", "--followings", "230", "--tweets", "450",
         "--following-tweets", "7", "--protected-followings", "2", "--suspended-followings", "1",
         "--seed", "5"]


def started(*args: str) -> ServerProcess:
    return ServerProcess("twitter_emulator", "--log-level", "WARNING", *args).start()


@pytest.mark.parametrize("strategy", ["list", "ids"])
def test_the_plan_counts_the_requests_a_real_crawl_makes(tmp_path: Path, strategy: str) -> None:
    # bench.plan plans a crawl over v1.1 (its endpoints, page sizes and the ids strategy), which
    # bench/quota.py asks for: so does this crawl.
    emu = started(*WORLD, "--quotas", "off")
    try:
        result = run_crawl(emu.url, "alice", "-a", "following_tweets=5",
                           settings={"POD_URL": f"sqlite:///{tmp_path / 'pod.sqlite3'}",
                                     "TWITTER_CONTACTS_STRATEGY": strategy, **V1.settings})
        assert result.returncode == 0, result.stderr[-3000:]
        made = reqlog.analyse(reqlog.fetch(emu), latency=0.0, window=900.0).by_endpoint
        plan = planning.crawl_plan(emu.get_json("/_emulator/world"), 5,
                                   {"follower": strategy, "following": strategy})
    finally:
        emu.stop()
    assert made == plan.requests
    # 450 own tweets: three pages and the empty one; 230 followings, one suspended (no timeline
    # request), two protected (one refused request each).
    assert plan.requests["statuses/user_timeline"] == 4 + 229
    assert plan.timeline_tweets == 450 + 227 * 5


def test_least_time_is_the_slowest_endpoint_plus_the_latency_chain() -> None:
    p = planning.Plan("x", {"users/show": 1, "followers/list": 50, "statuses/user_timeline": 900}, chain=17)
    assert p.windows() == {"users/show": 0, "followers/list": 3, "statuses/user_timeline": 0}
    assert p.minimum(window=15.0, latency=0.0025) == pytest.approx(3 * 15 + 17 * 0.0025)


def test_a_section_is_rewritten_in_place(tmp_path: Path) -> None:
    out = tmp_path / "B.md"
    write_section("quota", "## 2\nfirst", out)
    write_section("throughput", "## 1\nfirst", out)
    out.write_text(out.read_text() + "\nNotes written by a person.\n")
    write_section("quota", "## 2\nsecond", out)
    text = out.read_text()
    assert text.count(marker("quota")[0]) == 1 and "second" in text and "## 2\nfirst" not in text
    assert text.index(marker("throughput")[0]) < text.index(marker("quota")[0])
    assert "Notes written by a person." in text


def test_a_section_says_the_load_average_its_benchmark_started_at(monkeypatch: pytest.MonkeyPatch) -> None:
    # The section is written after minutes of runs: the load read then is the benchmark's own.
    before = {**harness.machine(), "load": "0.00 0.00 0.00"}
    monkeypatch.setattr(report, "machine", lambda: before)
    monkeypatch.setattr(report, "_START", {})
    report.mark_start()
    monkeypatch.setattr(report, "machine", lambda: {**before, "load": "2.24 1.04 0.40"})
    assert report.provenance(["archive"]).endswith("load average at start 0.00 0.00 0.00")


def test_the_throughput_command_runs_on_a_tiny_world(tmp_path: Path) -> None:
    out = tmp_path / "BENCHMARKS.md"
    proc = subprocess.run(  # noqa: S603 (our own command line)
        [sys.executable, "-m", "bench", "throughput", "--quick", "--output", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    text = out.read_text()
    assert marker("throughput")[0] in text and "embedded SQLite store" in text and "Pod test server" in text
    assert "python -m bench throughput --quick" in text and " cores (" in text


def test_the_baseline_is_sequential_and_waits_for_the_window(tmp_path: Path) -> None:
    window, latency = 2.0, 0.01
    emu = started("--handle", "alice", "--followers", "700", "--followings", "3", "--tweets", "30",
                  "--following-tweets", "3", "--protected-followings", "0", "--suspended-followings", "0",
                  "--window", str(window), "--latency", str(latency), "--quota", "followers/list=2")
    try:
        proc = subprocess.run(  # noqa: S603 (our own command line)
            [sys.executable, "-m", "bench.baseline", "--api", emu.url, "--db", str(tmp_path / "b.sqlite3"),
             "--following-tweets", "3"],
            cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
        )
        facts = reqlog.analyse(reqlog.fetch(emu), latency, window)
    finally:
        emu.stop()
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout)
    assert result["tweets"] == 30 + 3 * 3
    # followers/list: 4 pages at 2 per window: refused once, then once more after the wait.
    assert facts.by_endpoint["followers/list"] == 4 + facts.rate_limited
    assert facts.rate_limited >= 1 and len(result["sleeps"]) == facts.rate_limited
    assert facts.max_in_flight == 1 and facts.overlapping == 0
    assert facts.long_gaps and all(g.after["status"] == 429 for g in facts.long_gaps)
    assert all(g.window_started >= window for g in facts.long_gaps)
