"""``scrapy queue``: a queue of handles on Redis, imported by ``rq worker`` on any machine.

::

    scrapy queue add accounts.txt [-a parts=...]   # one job per handle (a file: one a line, # comments)
    scrapy queue add --handles jack,alice           # or given here
    scrapy queue status                             # what is queued, running, done and failed

The queue is RQ's (``TWITTER_QUEUE_REDIS_URL``, queue ``TWITTER_QUEUE_NAME``); its workers run
``rq worker --url URL NAME`` in a folder where ``scrapy crawl twitter`` works, and each job is
:func:`twitter_crawler.jobs.crawl.crawl_handle`. A handle already queued or running is not queued
twice; one whose last import ended (done or failed) is queued again: a refresh. A job holds the
handle and its spider arguments only, never a setting or a secret.

RQ and redis-py are in the ``queue`` extra. These commands talk to Redis with its blocking client:
they run no crawl and no reactor.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any, ClassVar

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

from twitter_crawler.addon import resolve
from twitter_crawler.settings.check import BadSetting, check_settings
from twitter_crawler.spiders.arguments import (
    PLAN_ARGUMENTS,
    BadArgument,
    parse_arguments,
    parse_handles,
)

if TYPE_CHECKING:
    import argparse

    from redis import Redis
    from rq import Queue

ACTIONS = ("add", "status")
SETTINGS = ("TWITTER_QUEUE_REDIS_URL", "TWITTER_QUEUE_NAME", "TWITTER_QUEUE_RETRIES",
            "TWITTER_QUEUE_JOBDIR")
#: Seconds a finished job's result and a failed job's error stay in Redis (a week): what
#: ``status`` shows.
KEEP = 7 * 86400
#: The states ``status`` lists, in RQ's words and ours.
STATES = (("queued", "queued"), ("scheduled", "to retry"), ("started", "running"),
          ("finished", "done"), ("failed", "failed"))


class Command(ScrapyCommand):
    requires_project = True
    requires_crawler_process = False
    default_settings: ClassVar[dict[str, Any]] = {"LOG_ENABLED": False}

    def syntax(self) -> str:
        return "add [FILE] [--handles a,b] [-a NAME=VALUE] | status"

    def short_desc(self) -> str:
        return "Queue handles on Redis for rq workers, or show the queue's state"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("--handles", default=None, metavar="a,b,c",
                            help="add: the handles, comma-separated (instead of a file)")
        parser.add_argument("-a", dest="spargs", action="append", default=[], metavar="NAME=VALUE",
                            help="add: a spider argument of each job (parts, limit, following_tweets)")

    def process_options(self, args: list[str], opts: argparse.Namespace) -> None:
        super().process_options(args, opts)
        assert self.settings is not None
        resolve(self.settings)
        try:
            check_settings(self.settings, SETTINGS)
        except BadSetting as exc:
            self._exit(f"bad setting: {exc}")
        if not self.settings.get("TWITTER_QUEUE_REDIS_URL"):
            self._exit("TWITTER_QUEUE_REDIS_URL is not set: the Redis server of the queue "
                       "(redis://host:6379/0), with -s, the environment or settings_local.py")

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if not args or args[0] not in ACTIONS:
            raise UsageError(f"say what to do: {', '.join(ACTIONS)}")
        try:
            from redis import Redis
            from redis.exceptions import RedisError
            from rq import Queue
        except ImportError:
            self._exit("the queue needs RQ and redis-py: pip install 'twitter_crawler[queue]'")
        assert self.settings is not None
        url = self.settings.get("TWITTER_QUEUE_REDIS_URL")
        redis = Redis.from_url(url, socket_timeout=30, socket_connect_timeout=10)
        queue = Queue(self.settings.get("TWITTER_QUEUE_NAME"), connection=redis)
        try:
            if args[0] == "add":
                self._add(queue, args[1:], opts)
            else:
                if len(args) > 1:
                    raise UsageError("status takes no argument")
                self._status(queue, redis)
        except RedisError as exc:
            self._exit(f"Redis at {_shown(url)} cannot be used ({type(exc).__name__}: {exc}); "
                       "check TWITTER_QUEUE_REDIS_URL and that the server runs")

    def _add(self, queue: Queue, rest: list[str], opts: argparse.Namespace) -> None:
        from rq import Retry

        from twitter_crawler.jobs.crawl import crawl_handle, job_id

        if bool(rest) == bool(opts.handles) or len(rest) > 1:
            raise UsageError("add takes a file of handles, or --handles a,b,c")
        spargs: dict[str, str] = {}
        for pair in opts.spargs:
            name, sep, value = pair.partition("=")
            if not sep or name not in PLAN_ARGUMENTS or name == "handle":
                self._exit(f"bad argument: {pair!r} (one of parts, limit, following_tweets)")
            spargs[name] = value
        try:
            handles = parse_handles(handles=opts.handles, handles_file=rest[0] if rest else None)
            for handle in handles:
                parse_arguments(handle, **spargs)
        except BadArgument as exc:
            self._exit(f"bad argument: {exc}")
        assert self.settings is not None
        retries = self.settings.getint("TWITTER_QUEUE_RETRIES")
        added, already = [], []
        for handle in handles:
            existing = queue.fetch_job(job_id(handle))
            if existing is not None and existing.get_status(refresh=True) in (
                    "queued", "started", "scheduled", "deferred"):
                already.append(handle)
                continue
            if existing is not None:
                existing.delete()  # its last run's result: this one replaces it
            queue.enqueue(
                crawl_handle, handle, spargs, job_id=job_id(handle),
                description=f"scrapy crawl twitter -a handle={handle}",
                # A crawl waits for rate limits for hours: no timeout, the heartbeat says it lives.
                job_timeout=-1, result_ttl=KEEP, failure_ttl=KEEP,
                # At once, on any worker: no scheduler to depend on (the crawl itself already
                # waited out what waiting cures; a job of a dead worker should simply run again).
                retry=Retry(max=retries) if retries else None,
            )
            added.append(handle)
        print(f"queued {len(added):,} of {len(handles):,} handles on {queue.name!r}"
              + (f"; already queued or running: {', '.join('@' + h for h in already)}" if already else ""))

    def _status(self, queue: Queue, redis: Redis) -> None:
        from rq.job import Job
        from rq.worker import Worker

        ids = {
            "queued": queue.get_job_ids(),
            "scheduled": queue.scheduled_job_registry.get_job_ids(),
            "started": queue.started_job_registry.get_job_ids(),
            "finished": queue.finished_job_registry.get_job_ids(),
            "failed": queue.failed_job_registry.get_job_ids(),
        }
        workers = Worker.all(queue=queue)
        counts = ", ".join(f"{len(ids[state]):,} {label}" for state, label in STATES)
        print(f"queue {queue.name!r}: {counts}; {len(workers):,} workers")
        for state, label in STATES:
            for job in Job.fetch_many(ids[state], connection=redis):
                if job is None:
                    continue
                handle = job.args[0] if job.args else "?"
                when = job.ended_at or job.started_at or job.enqueued_at
                line = f"  @{handle:<16} {label:<9} {when:%Y-%m-%d %H:%M} UTC" if when else \
                    f"  @{handle:<16} {label}"
                if state == "failed" and job.exc_info:
                    line += "  " + _last_error(job.exc_info)
                if state == "scheduled":
                    line += f"  (retries left: {job.retries_left})"
                print(line)

    def _exit(self, message: str) -> None:
        print(f"scrapy queue: {message}", file=sys.stderr)
        sys.exit(2)


def _last_error(exc_info: str) -> str:
    """The failure's message: the last line of the traceback that names the crawl."""
    lines = [line.strip() for line in exc_info.splitlines() if line.strip()]
    for line in reversed(lines):
        if "CrawlFailed:" in line or "AbandonedJobError" in line or "Moved to" in line:
            return line.split("CrawlFailed: ", 1)[-1]
    return lines[-1] if lines else ""


def _shown(url: str) -> str:
    """The URL without its password."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return parts._replace(netloc=netloc).geturl()
