"""A queue of handles on Redis, imported by ``rq worker`` processes (issue 18), end to end with
real servers: redis-server (the queue and the shared rate budgets), PostgreSQL (the shared
store), the emulator with tight quotas, ``scrapy queue add`` and ``rq worker`` as a user runs them.

* three workers, one token: every handle imported, 0 × 429, nothing twice in PostgreSQL; a
  missing and a suspended account fail once each (no retry), named;
* a worker killed with kill -9 (its whole process group, as a machine lost) in the middle of a
  job: the job runs again on another worker, from the same JOBDIR, and completes; nothing lost
  or twice, no budget lease left in Redis.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.incremental.support import PostgresTarget, assert_no_twins
from tests.stores.conftest import database_name
from tests.support.apiversion import V2
from tests.support.crawl import crawl_env
from tests.support.servers import ROOT, PostgresServer, RedisServer, ServerProcess
from tests.support.worlds import followings, union_truth

TIGHT = ("--window", "10", "--quota", "users/tweets=40", "--quota", "users/followers=4",
         "--quota", "users/following=4", "--quota", "users/by/username=10")
WORLD = ("--handle", "alice", "--followers", "30", "--followings", "8", "--tweets", "120",
         "--following-tweets", "5", "--protected-followings", "0", "--suspended-followings", "1",
         "--seed", "41")
#: alice's own timeline takes 30 pages, one after the other: her crawl lasts long enough to
#: be killed in the middle.
LONG = tuple(a if a != "120" else "3000" for a in WORLD)
RQ = str(Path(sys.executable).with_name("rq"))


class Workers:
    """``rq worker`` processes, each in a process group of its own (so that killing one kills
    its work horse and crawl too, as a lost machine would)."""

    def __init__(self, redis_url: str, queue: str, env: dict[str, str], logs: Path) -> None:
        self.redis_url, self.queue, self.env, self.logs = redis_url, queue, env, logs
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(self, n: int) -> None:
        self.logs.mkdir(parents=True, exist_ok=True)
        for _ in range(n):
            i = len(self.procs)
            log = (self.logs / f"worker-{i}.log").open("wb")
            self.procs.append(subprocess.Popen(  # noqa: S603 (our own command line)
                [RQ, "worker", "--url", self.redis_url, "--name", f"{self.queue}-w{i}",
                 # An idle worker looks for jobs of dead workers every 5 s (worker TTL - 15).
                 "--worker-ttl", "20", "--maintenance-interval", "3",
                 "--job-monitoring-interval", "3", self.queue],
                cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True))
            log.close()

    def kill(self, i: int) -> None:
        """kill -9 of worker ``i`` and everything it started: RQ's work horse runs in a session
        of its own (``setsid``), so the worker's process group is not enough to stop the job."""
        pids = descendants(self.procs[i].pid)
        os.killpg(self.procs[i].pid, signal.SIGKILL)
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.procs[i].wait(10)

    def stop(self) -> None:
        for i, proc in enumerate(self.procs):
            if proc.poll() is None:
                self.kill(i)


def descendants(pid: int) -> list[int]:
    """Every process below ``pid``, children first."""
    out = subprocess.run(["ps", "-e", "-o", "pid=,ppid="], capture_output=True, text=True,  # noqa: S607
                         check=True).stdout
    children: dict[int, list[int]] = {}
    for line in out.splitlines():
        child, parent = (int(x) for x in line.split())
        children.setdefault(parent, []).append(child)
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def scrapy_queue(*args: str, settings: dict[str, str]) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "scrapy", "queue", *args]
    for key, value in settings.items():
        cmd += ["-s", f"{key}={value}"]
    return subprocess.run(cmd, cwd=ROOT, env=crawl_env(), capture_output=True, text=True,  # noqa: S603
                          timeout=60, check=False)


def jobs_state(redis_url: str, queue: str) -> dict[str, list[str]]:
    from redis import Redis
    from rq import Queue

    q = Queue(queue, connection=Redis.from_url(redis_url))
    return {"queued": q.get_job_ids(), "scheduled": q.scheduled_job_registry.get_job_ids(),
            "started": q.started_job_registry.get_job_ids(),
            "finished": q.finished_job_registry.get_job_ids(),
            "failed": q.failed_job_registry.get_job_ids()}


def wait_done(redis_url: str, queue: str, total: int, timeout: float) -> dict[str, list[str]]:
    deadline = time.monotonic() + timeout
    while True:
        state = jobs_state(redis_url, queue)
        if len(state["finished"]) + len(state["failed"]) == total and not state["queued"] \
                and not state["scheduled"] and not state["started"]:
            return state
        assert time.monotonic() < deadline, f"the queue did not empty in {timeout:.0f} s: {state}"
        time.sleep(1)


@pytest.fixture()
def setup(request: pytest.FixtureRequest, tmp_path: Path, redis_server: RedisServer,
          postgres_server: PostgresServer) -> Iterator[dict[str, Any]]:
    store = PostgresTarget(postgres_server.create_database(database_name(request)))
    queue = "q" + database_name(request)[2:12]
    # The queue in one Redis database, the budgets in another, as a user may keep them.
    queue_url = redis_server.url[:-1] + "1"
    world = getattr(request, "param", WORLD)
    with ServerProcess("twitter_emulator", *world, *TIGHT) as emulator:
        env = crawl_env(settings={})
        env.update({"TWITTER_API_URL": emulator.url, **store.settings(),
                    "TWITTER_RATELIMIT_REDIS_URL": redis_server.url,
                    "TWITTER_QUEUE_JOBDIR": str(tmp_path / "jobs"),
                    "TWITTER_COST_LEDGER_DIR": str(tmp_path / "ledger"),
                    "TWITTER_PROGRESS_INTERVAL": "0"})
        workers = Workers(queue_url, queue, env, tmp_path / "workers")
        try:
            yield {"emulator": emulator, "store": store, "workers": workers, "queue": queue,
                   "queue_url": queue_url, "redis": redis_server, "tmp": tmp_path,
                   "settings": {"TWITTER_QUEUE_REDIS_URL": queue_url, "TWITTER_QUEUE_NAME": queue}}
        finally:
            workers.stop()
            # For whoever reads a failure: what the emulator was asked, when.
            import json

            (tmp_path / "emulator-log.json").write_text(
                json.dumps(emulator.get_json("/_emulator/log")["requests"]), encoding="utf-8")


def available(emulator: ServerProcess, n: int) -> list[str]:
    """``n`` accounts alice follows that can be imported (not suspended)."""
    suspended = set(emulator.get_json("/_emulator/world")["suspended"])
    return [h for h in followings(emulator, "alice", V2) if h not in suspended][:n]


def test_three_workers_one_token_import_every_handle_without_a_429(setup: dict[str, Any]) -> None:
    emulator, store = setup["emulator"], setup["store"]
    suspended = emulator.get_json("/_emulator/world")["suspended"][0]
    good = ["alice", *available(emulator, 3)]
    listed = setup["tmp"] / "handles.txt"
    listed.write_text("\n".join([*good, "nobody_here", suspended]) + "\n", encoding="utf-8")
    added = scrapy_queue("add", str(listed), settings=setup["settings"])
    assert added.returncode == 0, added.stderr
    assert added.stdout.strip() == f"queued 6 of 6 handles on {setup['queue']!r}"
    again = scrapy_queue("add", "--handles", "alice", settings=setup["settings"])
    assert "already queued or running: @alice" in again.stdout, again.stdout

    setup["workers"].start(3)
    state = wait_done(setup["queue_url"], setup["queue"], 6, timeout=420)
    assert sorted(state["finished"]) == sorted(f"twitter-crawl-{h.lower()}" for h in good)
    assert sorted(state["failed"]) == sorted(
        f"twitter-crawl-{h.lower()}" for h in ("nobody_here", suspended))

    log = emulator.get_json("/_emulator/log")["requests"]
    assert [e for e in log if e.get("status") == 429] == []
    snap = store.snapshot()
    assert_no_twins(snap)
    want = union_truth(emulator, good, V2)
    assert {k for k in want if k[0] != "Edge"} == set(snap.items)
    assert {k for k in want if k[0] == "Edge"} == set(snap.edges)
    assert len(snap.edges) == len(set(snap.edges))

    status = scrapy_queue("status", settings=setup["settings"])
    assert status.returncode == 0, status.stderr
    first = status.stdout.splitlines()[0]
    assert first.startswith(f"queue {setup['queue']!r}: 0 queued, 0 to retry, 0 running, 4 done, "
                            "2 failed; "), first
    assert any("@nobody_here" in line and "failed" in line and "twitter_user_not_found" in line
               for line in status.stdout.splitlines()), status.stdout
    # A failure that waiting cannot change is not retried: one run each.
    for handle in ("nobody_here", suspended):
        runs = (setup["tmp"] / "jobs" / f"{handle.lower()}.log").read_text().count("Import stopped")
        assert runs == 1, handle


@pytest.mark.parametrize("setup", [LONG], indirect=True, ids=["long"])
def test_a_worker_killed_mid_job_its_job_runs_again_and_completes(setup: dict[str, Any]) -> None:
    emulator, store, workers = setup["emulator"], setup["store"], setup["workers"]
    handles = ["alice", *available(emulator, 1)]
    added = scrapy_queue("add", "--handles", ",".join(handles), settings=setup["settings"])
    assert added.returncode == 0, added.stderr
    workers.start(1)
    # The first worker takes alice's job; kill it (and its crawl) once the crawl has stored some
    # of her tweets, with more to come.
    deadline = time.monotonic() + 120
    while store.snapshot().count("Tweet") < 300:
        assert time.monotonic() < deadline, "the first job never started storing"
        time.sleep(0.5)
    assert jobs_state(setup["queue_url"], setup["queue"])["started"] == ["twitter-crawl-alice"]
    workers.kill(0)
    workers.start(1)
    # RQ sees the job abandoned once its heartbeat lapses (the monitoring interval + 60 s), and
    # runs it again on the live worker.
    state = wait_done(setup["queue_url"], setup["queue"], 2, timeout=300)
    assert sorted(state["finished"]) == sorted(f"twitter-crawl-{h.lower()}" for h in handles)
    assert state["failed"] == []
    alice_log = (setup["tmp"] / "jobs" / "alice.log").read_text(encoding="utf-8")
    assert alice_log.count("Import finished") == 1
    assert "Resuming crawl" in alice_log or "JOBDIR" in alice_log
    snap = store.snapshot()
    assert_no_twins(snap)
    want = union_truth(emulator, handles, V2)
    assert {k for k in want if k[0] != "Edge"} == set(snap.items)
    assert {k for k in want if k[0] == "Edge"} == set(snap.edges)
    assert [e for e in emulator.get_json("/_emulator/log")["requests"] if e.get("status") == 429] == []
    # No budget lease outlives the crawl that took it: none is held now that no crawl runs.
    from redis import Redis

    redis = Redis.from_url(setup["redis"].url)
    now_ms = time.time() * 1000
    held = []
    for key in redis.scan_iter("twitter_crawler:budget:*"):
        probe, until = redis.hmget(key, "probe", "probe_until")
        if probe is not None and until is not None and float(until) > now_ms:
            held.append(key)
    assert held == [], held
