"""``python -m bench profile [--store sqlite|pod] [--quick]``: where the crawl's time goes.

Runs the throughput world (100 followings × 200 tweets + 3,200 own tweets, quotas off; 20
followings with ``--quick``) under ``py-spy record`` (sampling, 200 Hz, all threads, idle
samples included) and sums the collapsed stacks per function: *own* samples (the function was on
top) and *inclusive* samples (anywhere on the stack), per thread. py-spy must be installed
(the ``bench`` extra); it writes the raw collapsed stacks next to the other files of
the run, for flame graphs (e.g. speedscope).
"""

from __future__ import annotations

import re
import shutil
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from bench import floor, plan as planning
from bench.harness import emulator
from bench.report import provenance, table, write_section
from bench.throughput import crawl_once, world_args

SIZE = {"followers": 100, "followings": 100, "tweets": 3200, "per_following": 200}
QUICK = {"followers": 50, "followings": 20, "tweets": 400, "per_following": 200}
FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^()]*?)(?::\d+)?\)$")
#: Top frames that mean the thread is waiting (for events, work, a lock, or the Pod's answer).
IDLE = {"EpollSelector.select", "Condition.wait", "_worker", "Event.wait", "Thread._wait_for_tstate_lock",
        "SocketIO.readinto", "BaseSelectorEventLoop.select"}


def py_spy() -> str:
    exe = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or shutil.which("py-spy")
    if not exe:
        raise SystemExit("py-spy is not installed: pip install -e '.[bench]'")
    return exe


def short(frame: str) -> str:
    m = FRAME.match(frame)
    if not m:
        return frame
    path = m["file"]
    for marker in ("site-packages/", "twitter_crawler/", "lib/python3"):
        if marker in path:
            path = path[path.index(marker) + (0 if marker == "twitter_crawler/" else len(marker)):]
            break
    return f"{m['func']} ({path})"


def aggregate(raw: Path) -> dict[str, dict[str, Any]]:
    """Collapsed stacks (``thread (tid): name;frame;... count``) → per thread name: samples,
    busy samples (the top frame is not a wait), own busy samples and inclusive samples per function.
    """
    out: dict[str, dict[str, Any]] = {}
    for line in raw.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, n = line.rpartition(" ")
        if not stack or not n.isdigit():
            continue
        count = int(n)
        frames = stack.split(";")
        thread = frames[0].split(": ", 1)[-1] if ": " in frames[0] else "start-up"
        frames = [short(f) for f in frames[1:]]
        t = out.setdefault(thread, {"samples": 0, "busy": 0, "own": Counter(), "incl": Counter()})
        t["samples"] += count
        if not frames or frames[-1].split(" ", 1)[0] in IDLE:
            continue
        t["busy"] += count
        t["own"][frames[-1]] += count
        for f in set(frames):
            t["incl"][f] += count
    return out


def thread_tables(agg: dict[str, dict[str, Any]], n_own: int = 15, n_incl: int = 30) -> list[str]:
    lines: list[str] = []
    for name, t in sorted(agg.items(), key=lambda kv: -kv[1]["busy"]):
        if name == "start-up" or t["busy"] < 0.05 * t["samples"] or t["samples"] < 50:
            continue  # start-up: the main thread before py-spy could name it (imports)
        if name != "MainThread":
            n_own, n_incl = min(n_own, 8), min(n_incl, 10)
        samples = t["samples"]
        lines += [f"**{name}**: busy {t['busy'] / samples:.0%} of {samples:,} samples (the rest waiting).", ""]
        # Frames on (nearly) every busy stack (the event loop, the worker loop) say nothing.
        incl = [(f, c) for f, c in t["incl"].most_common() if c < 0.97 * t["busy"]][:n_incl]
        lines += [table(["own", "function (top of the stack)"],
                        [[f"{c / samples:.1%}", f"`{f}`"] for f, c in t["own"].most_common(n_own)]), ""]
        lines += [table(["inclusive", "function"], [[f"{c / samples:.1%}", f"`{f}`"] for f, c in incl]), ""]
    return lines


def run(workdir: Path, *, quick: bool, store: str, output: Path | None, argv: list[str]) -> dict[str, Any]:
    size = QUICK if quick else SIZE
    raw = workdir / f"profile-{store}.collapsed.txt"
    wrap = [py_spy(), "record", "--idle", "--threads", "-r", "200", "--format", "raw", "-o", str(raw), "--"]
    emu_args = world_args(size)
    with emulator(*emu_args, log=workdir / "profile.emulator.log") as emu:
        summary = emu.get_json("/_emulator/world")
        p = planning.crawl_plan(summary, size["per_following"], {"follower": "list", "following": "list"})
        m = crawl_once(emu.url, workdir, f"profile-{store}", store, size["per_following"], p.timeline_tweets,
                       wrap=wrap)
        fl = floor.measure(emu.url, summary, size["per_following"], workdir / "floor.sqlite3")
    agg = aggregate(raw)
    body = "\n".join([
        f"## Profile: crawl into {'the embedded store' if store == 'sqlite' else 'the Pod test server'}",
        "",
        provenance(argv),
        "",
        f"`py-spy record --idle --threads -r 200` on `scrapy crawl twitter -a following_tweets="
        f"{size['per_following']}` over `python -m twitter_emulator {' '.join(emu_args)}` "
        f"({p.timeline_tweets:,} timeline tweets, {m.run.to_last_commit:.1f} s under the profiler, "
        f"{m.rate:,.0f} tweets/s, crawl CPU {m.run.usage.cpu:.1f} s). Per thread: the share of its samples "
        "in which it was running (not waiting in the selector, a lock or a queue), then the functions "
        "its busy samples were in, as shares of all its samples.",
        "",
        *thread_tables(agg),
        "**The floor without Scrapy** (`bench/floor.py`, in one thread, same world, same parser and store, "
        f"fetching not timed): {fl['tweets']:,} timeline tweets, {fl['items']:,} items and edges; "
        f"`json.loads` {fl['json']:.2f} s, `parse_timeline` {fl['parse']:.2f} s, `to_dict` {fl['to_dict']:.2f} s, "
        f"`SQLiteStore.write` {fl['store']:.2f} s: **{fl['tweets_per_s']:,.0f} tweets/s** on one core.",
    ])
    print(body)
    if output is not None:
        write_section(f"profile-{store}", body, output)
    return agg
