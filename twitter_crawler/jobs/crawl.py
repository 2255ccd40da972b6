"""The queue's job: one handle's import, run by an RQ worker (``rq worker``) on any machine.

``scrapy queue add`` puts one job per handle on a Redis queue (:mod:`twitter_crawler.commands.
queue`); a worker runs :func:`crawl_handle`, which runs ``scrapy crawl twitter -a handle=H`` as a
child process with a ``JOBDIR`` of its own (``TWITTER_QUEUE_JOBDIR``/``<handle>``) and its output
in ``<handle>.log`` beside it. The job holds the handle and spider arguments only: the settings,
credentials above all, come from the worker's environment and ``settings_local.py``, so no secret
ever travels through Redis.

* exit 0: the job finishes;
* any other exit fails the job (:class:`CrawlFailed`, with the close reason the crawl logged).
  RQ runs it again (``TWITTER_QUEUE_RETRIES``) unless a run cannot change it: a handle that
  does not exist or is suspended, refused credentials, a bad argument or setting (exit 2);
* a worker that dies (kill -9, a machine lost) stops heartbeating: after RQ's heartbeat TTL
  (the monitoring interval + 60 s) another worker's maintenance (between jobs, or every
  ``--worker-ttl`` − 15 s when idle) finds the job abandoned and runs it again. With the same ``JOBDIR`` (a shared disk, or the same machine) the crawl resumes;
  elsewhere it starts again, and the store (PostgreSQL, say) keeps it from storing anything
  twice.

Blocking calls are fine here: a worker runs one job at a time, outside any reactor.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from rq import get_current_job
from scrapy.utils.project import get_project_settings

from twitter_crawler.addon import resolve
from twitter_crawler.spiders.arguments import parse_arguments

#: Close reasons that a retry cannot change (the crawl exits 1 with them).
PERMANENT = frozenset((
    "twitter_user_not_found", "twitter_user_suspended", "twitter_bad_credentials",
    "twitter_missing_credentials", "twitter_access_level",
))
#: How the summary names the close reason (twitter_crawler.extensions.summary).
_STOPPED = re.compile(r"Import stopped: (\S+)")
#: Lines of the crawl's log quoted in a failed job's error.
_TAIL = 3


class CrawlFailed(RuntimeError):
    """``scrapy crawl`` of a handle exited non-zero; the message says how and where its log is."""


def job_id(handle: str) -> str:
    """One job per handle (Twitter's handles ignore case)."""
    return f"twitter-crawl-{handle.lower()}"


def crawl_handle(handle: str, arguments: dict[str, str] | None = None) -> dict[str, Any]:
    """Imports ``handle`` (``arguments``: spider arguments) with ``scrapy crawl twitter``."""
    arguments = dict(arguments or {})
    parse_arguments(handle, **arguments)  # a job from an older enqueuer: checked again here
    settings = get_project_settings()
    resolve(settings)
    root = Path(settings.get("TWITTER_QUEUE_JOBDIR")).expanduser()
    root.mkdir(parents=True, exist_ok=True)
    name = handle.lower()
    log = root / f"{name}.log"
    cmd = [sys.executable, "-m", "scrapy", "crawl", "twitter", "-a", f"handle={handle}"]
    for key, value in sorted(arguments.items()):
        cmd += ["-a", f"{key}={value}"]
    cmd += ["-s", f"JOBDIR={root / name}"]
    env = dict(os.environ)
    env.setdefault("SCRAPY_SETTINGS_MODULE", "twitter_crawler.settings")
    with log.open("ab") as out:
        returncode = subprocess.run(  # noqa: S603 (our own command line)
            cmd, stdout=out, stderr=subprocess.STDOUT, env=env, check=False).returncode
    if returncode == 0:
        return {"handle": handle, "exit": 0, "log": str(log)}
    tail = log.read_text(encoding="utf-8", errors="replace").splitlines()[-200:]
    reasons = [m.group(1) for line in tail if (m := _STOPPED.search(line))]
    reason = reasons[-1] if reasons else ("bad argument or setting" if returncode == 2 else "?")
    if returncode == 2 or reason in PERMANENT:
        # Waiting cannot change it: no retry. The worker decides on the instance it runs, which
        # get_current_job() returns.
        job = get_current_job()
        if job is not None:
            job.retries_left = 0
    errors = [line for line in tail if " ERROR: " in line][-_TAIL:]
    raise CrawlFailed(
        f"@{handle}: scrapy crawl exited {returncode} ({reason}); see {log}"
        + ("".join(f"\n  {line}" for line in errors)))
