"""Every default of the project's own settings, in one place.

Settings are grouped by component; within a group the enabling flag comes first, the rest are in
alphabetical order. Each of them can be overridden with ``-s NAME=value``, with an environment
variable of the same name, or in ``settings_local.py``. ``docs/settings.md`` describes them.
"""

from __future__ import annotations

# API
TWITTER_API_URL = "https://api.twitter.com"
TWITTER_API_VERSION = "2"

# Credentials (OAuth 1.0a user context). Secrets: never logged, never stored.
TWITTER_ACCESS_SECRET = ""
TWITTER_ACCESS_TOKEN = ""
TWITTER_BEARER_TOKEN = ""
TWITTER_CONSUMER_KEY = ""
TWITTER_CONSUMER_SECRET = ""

# Contacts: which endpoints import followers/followings ("auto" picks the faster under the quotas);
# days between full reads of a stored list (newest first until known ones in between; 0: always).
TWITTER_CONTACTS_FULL_REFRESH = 7.0
TWITTER_CONTACTS_STRATEGY = "auto"

# Cost (pay-per-use, API v2): X's prices unless overridden, a limit, the same-day ledger
TWITTER_COST_LEDGER_DIR = "twitter-cost"
TWITTER_COST_OWNED_READS = True
TWITTER_MAX_COST = ""
TWITTER_PRICES = ""

# Rate-limit parking; budgets shared in Redis by crawls of one token (empty: in this process)
TWITTER_RATELIMIT_ENABLED = True
TWITTER_RATELIMIT_MARGIN = 1.0
TWITTER_RATELIMIT_MAX_WAIT = 905.0
TWITTER_RATELIMIT_PROBE_LEASE = 60.0
TWITTER_RATELIMIT_REDIS_URL = ""

# The queue of handles (scrapy queue add/status, rq worker): Redis, queue name, retries of a job,
# where each job's JOBDIR and log go (on the worker's machine)
TWITTER_QUEUE_REDIS_URL = ""
TWITTER_QUEUE_NAME = "twitter"
TWITTER_QUEUE_RETRIES = 3
TWITTER_QUEUE_JOBDIR = "crawls"

# Retries (5xx, timeouts, dropped connections, unreadable bodies): exponential backoff
TWITTER_RETRY_BACKOFF_BASE = 1.0
TWITTER_RETRY_BACKOFF_JITTER = 0.25
TWITTER_RETRY_BACKOFF_MAX = 60.0

# Dedupe: keys remembered per generation (two generations): bounds memory at large imports
TWITTER_DEDUPE_WINDOW = 200_000

# Media files (photos, avatars, videos): what is downloaded, how many at once, how big at most
TWITTER_MEDIA = "photos,avatars"
TWITTER_MEDIA_CONCURRENCY = 8
TWITTER_MEDIA_MAX_BYTES = 64 * 1024 * 1024
TWITTER_MEDIA_RETRY_TIMES = 2
TWITTER_MEDIA_TIMEOUT = 60.0

# Progress line
TWITTER_PROGRESS_INTERVAL = 30.0

# Store
POD_URL = "sqlite:///pod.sqlite3"
POD_AUTH_JSON = ""
POD_BATCH_SIZE = 500
#: The archive import's (offline): fewer, larger transactions cost SQLite less.
POD_ARCHIVE_BATCH_SIZE = 8000
POD_BATCH_SECONDS = 1.0
POD_DATABASE_KEY = ""
POD_OWNER_KEY = ""
POD_PLUGIN_PROGRESS_INTERVAL = 10.0
POD_RETRY_TIMES = 5
POD_RETRY_BACKOFF = 0.5

#: The names of the settings whose values are secrets.
SECRET_SETTINGS = (
    "TWITTER_ACCESS_SECRET",
    "TWITTER_ACCESS_TOKEN",
    "TWITTER_CONSUMER_SECRET",
    "TWITTER_BEARER_TOKEN",
    "POD_AUTH_JSON",
    "POD_DATABASE_KEY",
    "POD_OWNER_KEY",
)
