"""Scrapy project settings of twitter_crawler.

The project's own settings (``TWITTER_*``, ``POD_*``) take their defaults from
:mod:`twitter_crawler.settings.defaults`. Each can be set, from weakest to strongest, in
``settings_local.py`` (next to ``scrapy.cfg``, git-ignored), in an environment variable of the
same name, or on the command line with ``-s NAME=value``.
"""

from __future__ import annotations

import os
import runpy
from pathlib import Path

from twitter_crawler.settings import defaults as _defaults

BOT_NAME = "twitter_crawler"
SPIDER_MODULES = ["twitter_crawler.spiders"]
NEWSPIDER_MODULE = "twitter_crawler.spiders"
COMMANDS_MODULE = "twitter_crawler.commands"

# The API, not a website: no robots.txt, no cookies, no redirects to follow.
ROBOTSTXT_OBEY = False
COOKIES_ENABLED = False
REDIRECT_ENABLED = False
USER_AGENT = "twitter_crawler/0.1 (+https://github.com/memri/twitter_crawler)"
FEED_EXPORT_ENCODING = "utf-8"

# Remote code execution and a telnet shell have no place in an importer holding credentials.
REMOTE_CONTROL_ENABLED = False
TELNETCONSOLE_ENABLED = False

# Concurrency is bounded by Twitter's quotas, not by the crawler: enough slots that a parked
# endpoint never starves the others.
# 64 for the API (the endpoint slots below add up to about that), 8 more for media downloads
# (TWITTER_MEDIA_CONCURRENCY), which the media pipeline keeps to their own limit.
CONCURRENT_REQUESTS = 72
CONCURRENT_REQUESTS_PER_DOMAIN = 64
DOWNLOAD_DELAY = 0
# Scrapy starts this many tasks per answer to run its items through the pipelines; ours are
# quick and synchronous until a batch is written, so the default 100 only costs CPU (measured:
# 1.27x the tweets/s, BENCHMARKS.md "Candidate fixes").
CONCURRENT_ITEMS = 8
DOWNLOAD_TIMEOUT = 30

# 429 is parked by the rate-limit middleware, never retried blindly. 5xx, timeouts, dropped
# connections and truncated bodies are retried RETRY_TIMES times, each after an exponential
# backoff (RetryBackoffMiddleware, TWITTER_RETRY_BACKOFF_*), then fail with a logged reason.
RETRY_ENABLED = True
RETRY_TIMES = 5
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408]
# Twitter answers errors with JSON bodies the spider middleware must read.
HTTPERROR_ALLOW_ALL = True

DOWNLOAD_HANDLERS = {
    "http": "twitter_crawler.downloadhandlers.http11.NoResendHTTP11DownloadHandler",
    "https": "twitter_crawler.downloadhandlers.http11.NoResendHTTP11DownloadHandler",
}
# One downloader slot per endpoint (set in meta by the API module): an endpoint parked for its
# rate limit holds at most its own slots, never all of CONCURRENT_REQUESTS.
DOWNLOAD_SLOTS = {
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
}

DOWNLOADER_MIDDLEWARES = {
    # Right after RetryMiddleware (550): a retry waits its exponential backoff before it takes
    # a rate-limit budget unit (TWITTER_RETRY_BACKOFF_*).
    "twitter_crawler.downloadermiddlewares.backoff.RetryBackoffMiddleware": 555,
    # After RetryMiddleware (550) on the way in, before it on the way out.
    "twitter_crawler.downloadermiddlewares.ratelimit.RateLimitMiddleware": 560,
    # Last before the download: every attempt is signed with a fresh nonce and timestamp.
    "twitter_crawler.downloadermiddlewares.oauth.OAuth1Middleware": 580,
}
SPIDER_MIDDLEWARES = {
    "twitter_crawler.spidermiddlewares.errors.TwitterErrorMiddleware": 60,
    "twitter_crawler.spidermiddlewares.watermarks.WatermarkMiddleware": 600,
    "twitter_crawler.spidermiddlewares.mediabacklog.MediaBacklogMiddleware": 610,
}
ITEM_PIPELINES = {
    "twitter_crawler.pipelines.dedupe.DedupePipeline": 100,
    "twitter_crawler.pipelines.media.MediaPipeline": 200,
    "twitter_crawler.pipelines.store.StorePipeline": 300,
}
EXTENSIONS = {
    # Ours opens the spider's one-item-per-answer items, so exports keep one record per item.
    "scrapy.extensions.feedexport.FeedExporter": None,
    "twitter_crawler.extensions.feeds.FeedExporter": 0,
    "twitter_crawler.extensions.summary.SummaryExtension": 500,
    "twitter_crawler.extensions.progress.ProgressExtension": 510,
    "twitter_crawler.extensions.jobdir.JobDirGuard": 0,
}

LOG_LEVEL = "INFO"
LOGSTATS_INTERVAL = 0
DEFAULT_DROPITEM_LOG_LEVEL = "DEBUG"


def _load_overrides() -> None:
    names = [n for n in dir(_defaults) if n.isupper() and n.startswith(("TWITTER_", "POD_"))]
    values = {n: getattr(_defaults, n) for n in names}
    local = Path(os.environ.get("TWITTER_CRAWLER_SETTINGS_LOCAL", "settings_local.py"))
    if local.is_file():
        loaded = runpy.run_path(str(local))
        values.update({k: v for k, v in loaded.items() if k.isupper()})
    for name in list(values) + [n for n in os.environ if n.startswith(("TWITTER_", "POD_"))]:
        if name in os.environ:
            values[name] = os.environ[name]
    globals().update(values)


_load_overrides()
