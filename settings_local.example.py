"""Copy to settings_local.py (git-ignored, and kept out of the container image by .dockerignore)
and fill in. Environment variables of the same names override what is set here, and
``-s NAME=value`` on the command line overrides both. docs/settings.md describes every setting;
the defaults live in twitter_crawler/settings/defaults.py.

Values marked SECRET never reach logs (at any level), stats, exports, job directories, the store
or error messages. Prefer environment variables for them on shared machines, and never pass them
with -s where other users can read command lines (ps).
"""

# -- Twitter API ------------------------------------------------------------------------------

# API base URL: requests go to {TWITTER_API_URL}/1.1/... The bundled emulator is
# http://127.0.0.1:PORT (python -m twitter_emulator); it accepts its own demo credentials,
# which `python -m twitter_emulator.credentials` prints (scripts/demo.sh passes them).
# TWITTER_API_URL = "https://api.twitter.com"
# TWITTER_API_VERSION = "1.1"

# OAuth 1.0a user-context credentials (developer portal -> your app -> Keys and tokens). Missing
# credentials stop the crawl at start-up (twitter_missing_credentials).
TWITTER_CONSUMER_KEY = ""  # the app's API key
TWITTER_CONSUMER_SECRET = ""  # SECRET: the app's API key secret
TWITTER_ACCESS_TOKEN = ""  # SECRET: the user's access token
TWITTER_ACCESS_SECRET = ""  # SECRET: the user's access token secret

# API v2 only (TWITTER_API_VERSION = "2"): an app-only bearer token, used when the four values
# above are not set.
# TWITTER_BEARER_TOKEN = ""  # SECRET

# -- Store ----------------------------------------------------------------------------------

# Where items go: the embedded store (one SQLite file), a PostgreSQL database that crawls on
# several machines share, postgresql://user:PASSWORD@host:port/database (needs the postgres
# extra: pip install -e '.[postgres]'; the password in it is a SECRET: keep this file private),
# or a Memri Pod, http(s)://host:port (needs the pod extra: pip install -e '.[pod]').
POD_URL = "sqlite:///pod.sqlite3"

# A Pod's keys, needed when POD_URL is http(s)://: 64 hexadecimal characters each.
POD_OWNER_KEY = ""  # SECRET: the owner key (it is part of every request's URL path)
POD_DATABASE_KEY = ""  # SECRET: the database key (ClientAuth)

# Inside the Pod only: the PluginAuth the Pod gives a plugin it starts, in place of the database
# key, as JSON {"data": {"nonce": ..., "encryptedPermissions": ...}}. The plugin entry point
# (python -m twitter_crawler.plugin) sets it from the POD_AUTH_JSON environment variable;
# docs/plugin.md. Never set it here.
# POD_AUTH_JSON = ""  # SECRET

# Inside the Pod only: seconds between progress updates of the PluginRun item.
# POD_PLUGIN_PROGRESS_INTERVAL = 10.0

# Batched writes: items and edges per write, and the longest an item waits in a batch (seconds).
# POD_BATCH_SIZE = 500
# POD_ARCHIVE_BATCH_SIZE = 8000  # the archive import's (scrapy crawl archive)
# POD_BATCH_SECONDS = 1.0

# A refused or failed write is retried this many times, the first retry after this many seconds,
# doubled each time; then the crawl stops (pod_unavailable) and a rerun imports what is missing.
# POD_RETRY_TIMES = 5
# POD_RETRY_BACKOFF = 0.5
