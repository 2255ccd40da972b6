"""The credentials the emulator accepts unless its options name others.

They are the emulator's own, and they open nothing but the emulator: the crawler knows none of
them. Whoever points a crawl at the emulator (the demo, the tests, the benchmarks) passes them to
it as a user passes theirs, in the ``TWITTER_*`` environment variables of :data:`CRAWL_ENV`.
``python -m twitter_emulator.credentials`` prints them as shell ``export`` lines, for scripts::

    eval "$(python -m twitter_emulator.credentials)"
"""

from __future__ import annotations

import shlex

CONSUMER_KEY = "emulator-consumer-key"
CONSUMER_SECRET = "emulator-consumer-secret"
#: The main account's access token: ``1-`` is the id of the user it belongs to, as on Twitter.
ACCESS_TOKEN = "1-emulator-access-token"
ACCESS_SECRET = "emulator-access-secret"
#: The app-only bearer token of /2 (``--bearer-token``).
BEARER_TOKEN = "emulator-bearer-token"

#: The user-context (OAuth 1.0a) credentials under the environment variables a client reads. The
#: bearer token is left out: with both, a client signs in user context, and a client given the
#: bearer token alone is testing app-only auth, which it asks for by name.
CRAWL_ENV: dict[str, str] = {
    "TWITTER_CONSUMER_KEY": CONSUMER_KEY,
    "TWITTER_CONSUMER_SECRET": CONSUMER_SECRET,
    "TWITTER_ACCESS_TOKEN": ACCESS_TOKEN,
    "TWITTER_ACCESS_SECRET": ACCESS_SECRET,
}


def main() -> None:
    for name, value in CRAWL_ENV.items():
        print(f"export {name}={shlex.quote(value)}")


if __name__ == "__main__":
    main()
