"""The crawler as a Scrapy add-on: its components, the Scrapy settings it relies on and the
defaults of its own settings, applied to a crawler's settings when it is built.

Name it in ``ADDONS`` (the project's settings module does)::

    ADDONS = {"twitter_crawler.addon.Addon": 0}

The project's settings then come from these sources, weakest to strongest:

1. the defaults of :mod:`twitter_crawler.settings.defaults` (every ``TWITTER_*``/``POD_*``) and
   :data:`SCRAPY_SETTINGS`, at the add-on's priority, so that any project's settings win;
2. the project's settings module (``"project"``);
3. ``settings_local.py`` in the working directory (:data:`LOCAL_ENV` names another file):
   every upper-case name it sets (:data:`LOCAL_PRIORITY`);
4. environment variables: every ``TWITTER_*``/``POD_*`` one, and any other name
   ``settings_local.py`` sets (:data:`ENV_PRIORITY`);
5. ``-s NAME=value`` (``"cmdline"``).

The sources are read when settings are resolved (:func:`resolve`: by the add-on's hooks, and by
the commands before their start-up check), never when a module is imported.
"""

from __future__ import annotations

import copy
import os
import runpy
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from scrapy.settings import SETTINGS_PRIORITIES
from scrapy.utils.misc import load_object

from twitter_crawler.settings import defaults
from twitter_crawler.settings.check import check_settings

if TYPE_CHECKING:
    from collections.abc import Mapping

    from scrapy.settings import BaseSettings

#: The environment variable naming the ``settings_local.py`` to read.
LOCAL_ENV = "TWITTER_CRAWLER_SETTINGS_LOCAL"
LOCAL_DEFAULT = "settings_local.py"
#: Above the project's settings module, below ``-s`` (and a spider's ``custom_settings``).
LOCAL_PRIORITY = SETTINGS_PRIORITIES["project"] + 1
ENV_PRIORITY = SETTINGS_PRIORITIES["project"] + 2
DEFAULT_PRIORITY = SETTINGS_PRIORITIES["addon"]
#: The prefixes of the project's own settings: every such environment variable is a setting.
PREFIXES = ("TWITTER_", "POD_")

#: Scrapy's settings as the crawler needs them; a project may still set each otherwise.
SCRAPY_SETTINGS: Mapping[str, object] = {
    # The API, not a website: no robots.txt, no cookies, no redirects to follow.
    "ROBOTSTXT_OBEY": False,
    "COOKIES_ENABLED": False,
    "REDIRECT_ENABLED": False,
    "USER_AGENT": "twitter_crawler/0.1 (+https://github.com/memri/twitter_crawler)",
    "FEED_EXPORT_ENCODING": "utf-8",
    # Remote code execution and a telnet shell have no place in an importer holding credentials.
    "REMOTE_CONTROL_ENABLED": False,
    "TELNETCONSOLE_ENABLED": False,
    # Concurrency is bounded by Twitter's quotas, not by the crawler: enough slots that a parked
    # endpoint never starves the others. CONCURRENT_REQUESTS is API_CONCURRENCY for the API (the
    # endpoint slots below add up to about that) plus TWITTER_MEDIA_CONCURRENCY for media
    # downloads, which the media pipeline keeps to their own limit: media_room() sets it.
    "CONCURRENT_REQUESTS_PER_DOMAIN": 64,
    "DOWNLOAD_DELAY": 0,
    # Scrapy starts this many tasks per answer to run its items through the pipelines; ours are
    # quick and synchronous until a batch is written, so the default 100 only costs CPU
    # (measured: 1.27x the tweets/s, BENCHMARKS.md "Candidate fixes").
    "CONCURRENT_ITEMS": 8,
    "DOWNLOAD_TIMEOUT": 30,
    # 429 is parked by the rate-limit middleware, never retried blindly. 5xx, timeouts, dropped
    # connections and truncated bodies are retried RETRY_TIMES times, each after an exponential
    # backoff (RetryBackoffMiddleware, TWITTER_RETRY_BACKOFF_*), then fail with a logged reason.
    "RETRY_ENABLED": True,
    "RETRY_TIMES": 5,
    "RETRY_HTTP_CODES": [500, 502, 503, 504, 522, 524, 408],
    # Twitter answers errors with JSON bodies the spider middleware must read.
    "HTTPERROR_ALLOW_ALL": True,
    # One downloader slot per endpoint (set in meta by the API module): an endpoint parked for
    # its rate limit holds at most its own slots, never all of CONCURRENT_REQUESTS.
    "DOWNLOAD_SLOTS": {
        # Within the quotas, time is latency: 500 timelines at 150 ms take 2.4 s 32 at a time
        # (the least the quotas allow for the realistic world of BENCHMARKS.md is 2.55 s).
        "statuses/user_timeline": {"concurrency": 32, "delay": 0, "jitter": 0},
        "users/lookup": {"concurrency": 16, "delay": 0, "jitter": 0},
        "users/show": {"concurrency": 2, "delay": 0, "jitter": 0},
        "followers/list": {"concurrency": 2, "delay": 0, "jitter": 0},
        "friends/list": {"concurrency": 2, "delay": 0, "jitter": 0},
        "followers/ids": {"concurrency": 2, "delay": 0, "jitter": 0},
        "friends/ids": {"concurrency": 2, "delay": 0, "jitter": 0},
        # API v2
        "users/tweets": {"concurrency": 32, "delay": 0, "jitter": 0},
        "users/by/username": {"concurrency": 2, "delay": 0, "jitter": 0},
        "users/followers": {"concurrency": 2, "delay": 0, "jitter": 0},
        "users/following": {"concurrency": 2, "delay": 0, "jitter": 0},
        # Media files: the media pipeline limits them (TWITTER_MEDIA_CONCURRENCY), not the slot.
        "twitter-media": {"concurrency": 64, "delay": 0, "jitter": 0},
    },
    # The progress extension says how far the import is; Scrapy's pages/items line would not.
    "LOGSTATS_INTERVAL": 0,
    # The dedupe pipeline drops every repeat of an item: one line each would drown the log.
    "DEFAULT_DROPITEM_LOG_LEVEL": "DEBUG",
}

#: HTTP/1.1 without Twisted's silent re-send of a signed request.
DOWNLOAD_HANDLER = "twitter_crawler.downloadhandlers.http11.NoResendHTTP11DownloadHandler"

#: The crawler's components and their order, per component setting.
COMPONENTS: Mapping[str, Mapping[str, int | None]] = {
    "DOWNLOADER_MIDDLEWARES": {
        # Right after RetryMiddleware (550): a retry waits its exponential backoff before it
        # takes a rate-limit budget unit (TWITTER_RETRY_BACKOFF_*).
        "twitter_crawler.downloadermiddlewares.backoff.RetryBackoffMiddleware": 555,
        # After RetryMiddleware (550) on the way in, before it on the way out.
        "twitter_crawler.downloadermiddlewares.ratelimit.RateLimitMiddleware": 560,
        # After the rate-limit middleware on the way in (a parked request reserves nothing of
        # TWITTER_MAX_COST), before RetryMiddleware on the way out: every attempt is metered.
        "twitter_crawler.downloadermiddlewares.cost.CostMiddleware": 570,
        # Last before the download: every attempt is signed with a fresh nonce and timestamp.
        "twitter_crawler.downloadermiddlewares.oauth.OAuth1Middleware": 580,
    },
    "SPIDER_MIDDLEWARES": {
        "twitter_crawler.spidermiddlewares.errors.TwitterErrorMiddleware": 60,
        "twitter_crawler.spidermiddlewares.watermarks.WatermarkMiddleware": 600,
        "twitter_crawler.spidermiddlewares.mediabacklog.MediaBacklogMiddleware": 610,
    },
    "ITEM_PIPELINES": {
        "twitter_crawler.pipelines.dedupe.DedupePipeline": 100,
        "twitter_crawler.pipelines.media.MediaPipeline": 200,
        "twitter_crawler.pipelines.store.StorePipeline": 300,
    },
    "EXTENSIONS": {
        # Ours opens the spider's one-item-per-answer items, so exports keep one record per item.
        "scrapy.extensions.feedexport.FeedExporter": None,
        "twitter_crawler.extensions.feeds.FeedExporter": 0,
        "twitter_crawler.extensions.summary.SummaryExtension": 500,
        "twitter_crawler.extensions.progress.ProgressExtension": 510,
        "twitter_crawler.extensions.jobdir.JobDirGuard": 0,
    },
}


def project_defaults() -> dict[str, object]:
    """Every ``TWITTER_*``/``POD_*`` setting at its default."""
    return {
        name: getattr(defaults, name) for name in dir(defaults) if name.startswith(PREFIXES)
    }


@lru_cache(maxsize=8)
def _run_local(path: str, mtime_ns: int, size: int) -> tuple[tuple[str, object], ...]:
    # Keyed by the file's state: settings are resolved up to three times per crawl (a command's
    # check, the crawler process, the crawler), and the user's file runs once for them all.
    del mtime_ns, size
    loaded = runpy.run_path(path)
    return tuple((name, value) for name, value in loaded.items() if name.isupper())


def local_settings(environ: Mapping[str, str]) -> dict[str, object]:
    """The upper-case names ``settings_local.py`` sets (none when there is no such file)."""
    local = Path(environ.get(LOCAL_ENV, LOCAL_DEFAULT))
    if not local.is_file():
        return {}
    stat = local.stat()
    # A copy: the settings may hold (and a component change) a list or dict of the file.
    return copy.deepcopy(dict(_run_local(str(local.resolve()), stat.st_mtime_ns, stat.st_size)))


def environment_settings(
    environ: Mapping[str, str], names: set[str] | frozenset[str]
) -> dict[str, str]:
    """The settings environment variables set: every ``TWITTER_*``/``POD_*`` one, and ``names``
    (those ``settings_local.py`` sets may be overridden from the environment too)."""
    return {
        name: value for name, value in environ.items() if name.startswith(PREFIXES) or name in names
    }


def _set_over_weaker(
    settings: BaseSettings, values: Mapping[str, object], priority: int
) -> None:
    # Only over weaker values: resolving the same settings again (the runner, then the crawler)
    # must not put back the raw text of a value check_settings() has parsed at this priority.
    for name, value in values.items():
        current = settings.getpriority(name)
        if current is None or current < priority:
            settings.set(name, value, priority)


def resolve(settings: BaseSettings, environ: Mapping[str, str] | None = None) -> None:
    """Gives ``settings`` what the crawl reads, from every source of the module docstring:
    the defaults, ``settings_local.py`` and the environment (``os.environ`` unless given), each
    at its priority. Resolving twice changes nothing."""
    environ = os.environ if environ is None else environ
    apply_defaults(settings)
    local = local_settings(environ)
    _set_over_weaker(settings, local, LOCAL_PRIORITY)
    known = {*project_defaults(), *local}
    _set_over_weaker(settings, environment_settings(environ, frozenset(known)), ENV_PRIORITY)
    media_room(settings)


def apply_defaults(settings: BaseSettings) -> None:
    """The project's defaults and :data:`SCRAPY_SETTINGS`, under anything set otherwise."""
    _set_over_weaker(settings, {**SCRAPY_SETTINGS, **project_defaults()}, DEFAULT_PRIORITY)


#: Scrapy's extensions that a setting switches on: left out unless it does.
SWITCHED_OFF_EXTENSIONS = {
    "REMOTE_CONTROL_ENABLED": "scrapy.extensions.remote_control.RemoteControl",
    "TELNETCONSOLE_ENABLED": "scrapy.extensions.telnet.TelnetConsole",
}


def enable_components(settings: BaseSettings) -> None:
    """The crawler's components, unless the settings name them already (a project's ``None``
    switches one off)."""
    for setting, components in COMPONENTS.items():
        for path, order in components.items():
            settings.setdefault_in_component_priority_dict(setting, load_object(path), order)
    # Scrapy imports every listed extension's module (to resolve its path) before the
    # extension reads its switch: the remote control's imports aiohttp's server, a tenth of a
    # crawl's start-up. Switched off, it is taken out of Scrapy's own list (a None in
    # EXTENSIONS would be resolved, and imported, too).
    base = settings.getdict("EXTENSIONS_BASE")
    for switch, path in SWITCHED_OFF_EXTENSIONS.items():
        if not settings.getbool(switch) and base.pop(path, "absent") != "absent":
            settings.set("EXTENSIONS_BASE", base, settings.getpriority("EXTENSIONS_BASE") or 0)
    handlers = settings.getdict("DOWNLOAD_HANDLERS")
    if not {"http", "https"} <= handlers.keys():
        for scheme in ("http", "https"):
            handlers.setdefault(scheme, DOWNLOAD_HANDLER)
        settings.set(
            "DOWNLOAD_HANDLERS",
            handlers,
            max(settings.getpriority("DOWNLOAD_HANDLERS") or 0, DEFAULT_PRIORITY),
        )


#: Downloads at once for the API; the media's TWITTER_MEDIA_CONCURRENCY come on top of them.
API_CONCURRENCY = 64


def media_room(settings: BaseSettings) -> None:
    """``CONCURRENT_REQUESTS``, unless set above the defaults: the API's places plus the media's,
    so that more media downloads at once (``TWITTER_MEDIA_CONCURRENCY``) never take places from
    API requests (every media download counts against Scrapy's total too)."""
    if (settings.getpriority("CONCURRENT_REQUESTS") or 0) > DEFAULT_PRIORITY:
        return
    try:
        media = settings.getint("TWITTER_MEDIA_CONCURRENCY")
    except ValueError:
        return  # not a number: the start-up check says so, in one line
    settings.set("CONCURRENT_REQUESTS", API_CONCURRENCY + media, DEFAULT_PRIORITY)


class Addon:
    """The twitter_crawler add-on: components, Scrapy settings and defaults (module docstring)."""

    @classmethod
    def update_pre_crawler_settings(cls, settings: BaseSettings) -> None:
        # Before the crawler process configures logging and loads spiders: settings_local.py or
        # the environment may set LOG_LEVEL or LOG_FILE too.
        resolve(settings)

    def update_settings(self, settings: BaseSettings) -> None:
        # Again for a crawler built without a crawler process (Crawler(...) in a script); a no-op
        # when the process has resolved them already.
        resolve(settings)
        enable_components(settings)
        # The commands check earlier, to end with one line before Scrapy's banner; this is for
        # every other way to start a crawl, so that components always read valid values.
        check_settings(settings)
        media_room(settings)  # again: the check may have parsed TWITTER_MEDIA_CONCURRENCY
