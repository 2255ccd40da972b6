"""Copy to settings_local.py (git-ignored) and fill in. Environment variables of the same names
and ``-s NAME=value`` on the command line override what is set here.

Every value below except POD_URL is a secret: the crawler never writes it to logs, stats,
exports, job directories or the store.
"""

# Twitter API credentials, OAuth 1.0a user context (developer portal → your app → Keys and tokens).
TWITTER_CONSUMER_KEY = ""
TWITTER_CONSUMER_SECRET = ""
TWITTER_ACCESS_TOKEN = ""
TWITTER_ACCESS_SECRET = ""

# Where items go: the embedded store (a SQLite file) or a Pod (http(s)://host:port).
POD_URL = "sqlite:///pod.sqlite3"

# Pod keys, needed when POD_URL is http(s)://
POD_OWNER_KEY = ""
POD_DATABASE_KEY = ""
