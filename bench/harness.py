"""Processes the benchmarks run: the API emulator, the Pod test server, ``scrapy crawl`` and the
tweepy baseline, each a real child process measured with ``os.wait4`` (its own peak RSS and CPU
seconds, not the sum over all children).
"""

from __future__ import annotations

import json
import os
import platform
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from twitter_emulator.credentials import CRAWL_ENV as EMULATOR_CREDENTIALS

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Usage:
    """What ``os.wait4`` says about one finished child."""

    wall: float = 0.0  # seconds from launch to exit, measured here
    cpu_user: float = 0.0
    cpu_sys: float = 0.0
    max_rss_mb: float = 0.0
    returncode: int | None = None
    #: The largest sum of the resident memory of the child and all its descendants (the
    #: archive import's reading and writing processes), sampled every 0.1 s.
    tree_rss_mb: float = 0.0

    @property
    def cpu(self) -> float:
        return self.cpu_user + self.cpu_sys


def _tree_rss_mb(root: int) -> float:
    """The resident memory of ``root`` and all its descendants, now (Linux's /proc)."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", encoding="ascii", errors="replace") as f:
                fields = f.read().rpartition(")")[2].split()
        except OSError:
            continue  # ended meanwhile
        parents[int(entry.name)] = int(fields[1])
        rss[int(entry.name)] = int(fields[21])  # pages
    tree = {root}
    grew = True
    while grew:
        grew = False
        for pid, parent in parents.items():
            if parent in tree and pid not in tree:
                tree.add(pid)
                grew = True
    return sum(rss.get(pid, 0) for pid in tree) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _reap(proc: subprocess.Popen[Any], started: float, timeout: float | None = None) -> Usage:
    deadline = None if timeout is None else time.monotonic() + timeout
    tree_rss = 0.0
    next_sample = 0.0
    while True:
        pid, status, ru = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if deadline is not None and time.monotonic() > deadline:
            proc.kill()
            pid, status, ru = os.wait4(proc.pid, 0)
            break
        if time.monotonic() >= next_sample:
            tree_rss = max(tree_rss, _tree_rss_mb(proc.pid))
            next_sample = time.monotonic() + 0.1
        time.sleep(0.01)
    wall = time.monotonic() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    return Usage(wall, ru.ru_utime, ru.ru_stime, ru.ru_maxrss / 1024, proc.returncode,
                 max(tree_rss, ru.ru_maxrss / 1024))


def child_env(extra: dict[str, str] | None = None, root: Path = ROOT) -> dict[str, str]:
    """The environment without the user's TWITTER_*/POD_* settings, with ``bench`` importable."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TWITTER_", "POD_"))}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(root), env.get("PYTHONPATH", "")]))
    # A settings_local.py of the developer must not change what is measured.
    env["TWITTER_CRAWLER_SETTINGS_LOCAL"] = os.devnull
    env.update(extra or {})
    return env


class Server:
    """``python -m MODULE --host 127.0.0.1 --port 0 ARGS``; the first stdout line is its URL."""

    def __init__(self, module: str, *args: str, log: Path | None = None) -> None:
        self.module = module
        self.args = list(args)
        self.log = log
        self.url = ""
        self.usage: Usage | None = None
        self._proc: subprocess.Popen[str] | None = None
        self._started = 0.0
        self._logf: Any = None

    @property
    def command(self) -> list[str]:
        return ["python", "-m", self.module, *self.args]

    def start(self) -> Server:
        self._logf = open(self.log, "w", encoding="utf-8") if self.log else subprocess.DEVNULL  # noqa: SIM115
        self._started = time.monotonic()
        self._proc = subprocess.Popen(  # noqa: S603 (our own command line)
            [sys.executable, "-u", "-m", self.module, "--host", "127.0.0.1", "--port", "0", *self.args],
            stdout=subprocess.PIPE, stderr=self._logf, text=True, cwd=ROOT, env=child_env(),
        )
        assert self._proc.stdout is not None
        line = self._proc.stdout.readline().strip()
        if not line.startswith("http://"):
            self.stop()
            raise RuntimeError(f"{self.module} did not start (printed {line!r}); see {self.log}")
        self.url = line.split()[0]
        return self

    def get_json(self, path: str) -> Any:
        with urllib.request.urlopen(self.url + path, timeout=120) as resp:  # noqa: S310 (loopback)
            return json.load(resp)

    def stop(self) -> Usage | None:
        proc = self._proc
        if proc is None:
            return self.usage
        if proc.poll() is None and proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
        try:
            self.usage = _reap(proc, self._started, timeout=10)
        except ChildProcessError:
            pass
        if proc.stdout:
            proc.stdout.close()
        if self._logf not in (None, subprocess.DEVNULL):
            self._logf.close()
        self._proc = None
        return self.usage

    def __enter__(self) -> Server:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def emulator(*args: str, log: Path | None = None) -> Server:
    return Server("twitter_emulator", "--log-level", "WARNING", *args, log=log)


def podserver(log: Path | None = None) -> Server:
    return Server("pod_testserver", log=log)


@dataclass
class Run:
    """One measured child process: a crawl or the baseline."""

    command: list[str]
    usage: Usage
    started_at: float  # epoch seconds at launch
    log: Path
    stats: dict[str, Any] = field(default_factory=dict)
    times: dict[str, list[float]] = field(default_factory=dict)
    result: dict[str, Any] = field(default_factory=dict)  # the baseline's JSON summary

    def stat(self, key: str, default: Any = 0) -> Any:
        return self.stats.get(key, default)

    def prefixed(self, prefix: str) -> int:
        return sum(v for k, v in self.stats.items() if k.startswith(prefix) and isinstance(v, int))

    @property
    def stored(self) -> dict[str, int]:
        """Items in the store after the crawl, per type (created + updated + unchanged)."""
        out: dict[str, int] = {}
        for kind in ("Account", "Tweet", "Photo", "Video", "Website", "File"):
            out[kind] = sum(self.stat(f"twitter/store/{w}/{kind}") for w in ("created", "updated", "unchanged"))
        out["edges"] = self.prefixed("twitter/store/edges_created/")
        return out

    @property
    def last_commit(self) -> float:
        """Epoch seconds of the last committed store batch (else the process end)."""
        span = self.times.get("twitter/store/batches")
        return span[1] if span else self.started_at + self.usage.wall

    @property
    def to_last_commit(self) -> float:
        return self.last_commit - self.started_at


def run_process(cmd: list[str], log: Path, *, env: dict[str, str] | None = None,
                timeout: float = 3600, stdout: Path | None = None,
                wrap: list[str] | None = None, root: Path = ROOT) -> Run:
    """Runs ``cmd`` (``wrap`` goes in front, e.g. a profiler) in the project tree ``root`` (its
    code comes first on the path) and measures it."""
    started_at = time.time()
    started = time.monotonic()
    with open(log, "w", encoding="utf-8") as errf, \
            open(stdout or os.devnull, "w", encoding="utf-8") as outf:
        proc = subprocess.Popen(  # noqa: S603 (our own command line)
            [*(wrap or []), *cmd], stdout=outf, stderr=errf, cwd=root, env=child_env(env, root),
        )
        usage = _reap(proc, started, timeout=timeout)
    return Run(cmd, usage, started_at, log)


def crawl(api_url: str, workdir: Path, name: str, *, args: dict[str, str] | None = None,
          settings: dict[str, str] | None = None, pod: tuple[str, str, str] | None = None,
          timeout: float = 3600, wrap: list[str] | None = None, spider: str = "twitter",
          root: Path = ROOT, fresh: bool = True, credentials: dict[str, str] | None = None) -> Run:
    """``scrapy crawl twitter -a handle=alice`` against ``api_url``, into a fresh SQLite file
    (or the Pod ``(url, owner_key, database_key)``), timed and with its stats; ``root``: the
    project tree whose crawler runs (another checkout, to compare with an older commit);
    ``fresh=False``: the store of an earlier crawl of the same ``name`` stays (a rerun);
    ``credentials``: the ``TWITTER_*`` credentials to pass instead of the emulator's user context."""
    stats_file = workdir / f"{name}.stats.json"
    spider_args = {"handle": "alice", **(args or {})}
    cmd = [sys.executable, "-m", "scrapy", "crawl", spider]
    for k, v in spider_args.items():
        cmd += ["-a", f"{k}={v}"]
    # The emulator's credentials, passed as a user passes theirs (the crawler knows none).
    env: dict[str, str] = dict(EMULATOR_CREDENTIALS if credentials is None else credentials)
    db = workdir / f"{name}.sqlite3"
    stats_file.unlink(missing_ok=True)
    if fresh:
        for leftover in (db, Path(f"{db}-wal"), Path(f"{db}-shm")):
            leftover.unlink(missing_ok=True)  # a fresh store: a rerun would be incremental
        shutil.rmtree(db.with_name(f"{db.stem}.files"), ignore_errors=True)  # its media files
    store = f"sqlite:///{db}"
    if pod is not None:
        store = pod[0]
        env.update({"POD_OWNER_KEY": pod[1], "POD_DATABASE_KEY": pod[2]})  # keys stay off the command line
    # Media downloads only where a benchmark asks for them (the crawler's default is photos and
    # profile pictures): the targets and the tweepy baseline are about the API import.
    all_settings = {"TWITTER_API_URL": api_url, "POD_URL": store, "TWITTER_MEDIA": "",
                    "STATS_CLASS": "bench.statscollector.BenchStatsCollector",
                    "BENCH_STATS_FILE": str(stats_file), **(settings or {})}
    for k, v in all_settings.items():
        cmd += ["-s", f"{k}={v}"]
    run = run_process(cmd, workdir / f"{name}.log", env=env, timeout=timeout, wrap=wrap, root=root)
    if stats_file.exists():
        data = json.loads(stats_file.read_text(encoding="utf-8"))
        run.stats, run.times = data["stats"], data["times"]
    if run.usage.returncode != 0 or run.stats.get("finish_reason") != "finished":
        tail = log_tail(run.log)
        raise RuntimeError(f"crawl {name} failed (exit {run.usage.returncode}):\n{tail}")
    return run


def checkout(rev: str, workdir: Path) -> Path:
    """A worktree of commit ``rev`` of this repository in ``workdir`` (its crawler, to run side
    by side with this tree's)."""
    path = workdir / f"tree-{rev}"
    if not path.exists():
        subprocess.run(["git", "worktree", "add", "--detach", str(path), rev], cwd=ROOT,  # noqa: S607
                       check=True, capture_output=True)
    return path


def drop_checkout(path: Path) -> None:
    subprocess.run(["git", "worktree", "remove", "--force", str(path)], cwd=ROOT,  # noqa: S607
                   check=False, capture_output=True)


def new_pod_keys() -> tuple[str, str]:
    return secrets.token_hex(32), secrets.token_hex(32)


def log_tail(path: Path, n: int = 40) -> str:
    try:
        return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-n:])
    except OSError:
        return ""


# -- figures ----------------------------------------------------------------------------------


def spread(values: list[float], fmt: str = "{:,.1f}") -> str:
    """``median (min–max, n=N)``, or the one value."""
    if not values:
        return "n/a"
    if len(values) == 1:
        return fmt.format(values[0])
    return (f"{fmt.format(statistics.median(values))} "
            f"({fmt.format(min(values))}–{fmt.format(max(values))}, n={len(values)})")


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


# -- the machine ------------------------------------------------------------------------------


def git_commit() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True,  # noqa: S607
                             timeout=10, check=False)
        return out.stdout.strip() or "unknown"
    except OSError:
        return "unknown"


def loadavg() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "?"


def machine() -> dict[str, str]:
    cpu = platform.processor() or "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": git_commit(),
        "cores": str(os.cpu_count()),
        "cpu": cpu,
        "python": platform.python_version(),
        "load": loadavg(),
    }
