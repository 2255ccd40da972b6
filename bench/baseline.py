"""The measuring stick: an importer written the way the original Memri Twitter plugin works.

``python -m bench.baseline --api http://127.0.0.1:PORT --handle alice --db PATH [--following-tweets 5]``

* tweepy's ``API`` (v1.1) with ``wait_on_rate_limit=True``: on a 429 tweepy sleeps until the
  window's ``x-rate-limit-reset`` (plus the one second it adds) and sends the request again;
* ``users/show``, then ``followers/list`` and ``friends/list`` at 200 per page with tweepy's
  ``Cursor``, then ``statuses/user_timeline`` for the account (``Cursor`` over all pages, 200
  per page) and for each following (the newest ``--following-tweets``);
* one request at a time, in this order, each answer written before the next request is sent.

Payloads become items with the project's own parser (``twitter_crawler.api.v1.parse``) and go to
the project's embedded store (``twitter_crawler.stores.sqlite.SQLiteStore``), one ``Batch`` per
API answer, so both importers store exactly the same data the same way and only the fetching
differs. tweepy builds its ``User``/``Status`` models as usual; the parser reads their ``_json``.

tweepy always builds ``https://HOST/1.1/...`` URLs. The emulator listens on plain HTTP, so the
auth handler below rewrites the scheme to ``http`` before signing (the OAuth 1.0a signature covers
the URL, so it must be rewritten before, not after). Credentials: the emulator's defaults
(``twitter_emulator.credentials``).

Prints one JSON object on stdout: requests made by tweepy calls, tweets, rate-limit sleeps (from
tweepy's own log line), and the epoch time of the last store commit.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

try:
    import tweepy
except ImportError:  # pragma: no cover - said clearly by the benchmark
    sys.exit("The baseline needs tweepy: pip install -e '.[bench]'")

from twitter_crawler.api.v1 import parse as v1
from twitter_crawler.items import Edge, ref, to_dict
from twitter_crawler.stores.base import Batch
from twitter_crawler.stores.sqlite import SQLiteStore
from twitter_emulator.credentials import CRAWL_ENV as EMULATOR_CREDENTIALS


class PlainHTTPAuth(tweepy.OAuth1UserHandler):
    """tweepy's OAuth 1.0a handler, signing ``http://`` URLs for a local emulator."""

    def apply_auth(self) -> Any:
        sign = super().apply_auth()

        def auth(request: Any) -> Any:
            if request.url.startswith("https://"):
                request.url = "http://" + request.url[len("https://"):]
            return sign(request)

        return auth


class SleepLog(logging.Handler):
    """Collects tweepy's "Rate limit reached. Sleeping for: N" lines with their times."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.sleeps: list[dict[str, Any]] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if "Sleeping for" in message:
            self.sleeps.append({"at": record.created, "seconds": float(message.rsplit(":", 1)[1])})


class Importer:
    def __init__(self, api: tweepy.API, store: SQLiteStore) -> None:
        self.api = api
        self.store = store
        self.calls: dict[str, int] = {}
        self.tweets = 0
        self.skipped: list[str] = []
        self.last_commit = 0.0

    def write(self, items: list[Any]) -> None:
        batch = Batch()
        for item in items:
            (batch.edges if item.type == "Edge" else batch.items).append(to_dict(item))
        self.store.write(batch)
        self.last_commit = time.time()

    def count(self, endpoint: str) -> None:
        self.calls[endpoint] = self.calls.get(endpoint, 0) + 1

    def run(self, handle: str, following_tweets: int) -> None:
        self.count("users/show")
        me = v1.parse_user(self.api.get_user(screen_name=handle)._json, me_id=None)
        me.isMe = True
        self.write([me])
        following: list[str] = []
        for kind, method, endpoint in (("follower", self.api.get_followers, "followers/list"),
                                       ("following", self.api.get_friends, "friends/list")):
            cursor = tweepy.Cursor(method, user_id=me.externalId, count=200, skip_status=True,
                                   include_user_entities=True)
            for page in cursor.pages():
                self.count(endpoint)
                accounts = [v1.parse_user(u._json, me_id=me.externalId) for u in page]
                edges = [Edge(kind, ref("Account", me.externalId), ref("Account", a.externalId))
                         for a in accounts]
                self.write([*accounts, *edges])
                if kind == "following":
                    following += [a.externalId for a in accounts]
        # The own timeline: every page tweepy's Cursor gives (it stops on an empty page).
        cursor = tweepy.Cursor(self.api.user_timeline, user_id=me.externalId, count=200,
                               tweet_mode="extended", include_rts=True)
        for page in cursor.pages():
            self.count("statuses/user_timeline")
            self.timeline_page([s._json for s in page], me.externalId)
        for user_id in following:
            self.count("statuses/user_timeline")
            try:
                if following_tweets <= 200:
                    statuses = self.api.user_timeline(user_id=user_id, count=following_tweets,
                                                      tweet_mode="extended", include_rts=True)
                    self.timeline_page([s._json for s in statuses], me.externalId)
                else:
                    cursor = tweepy.Cursor(self.api.user_timeline, user_id=user_id, count=200,
                                           tweet_mode="extended", include_rts=True)
                    statuses = list(cursor.items(following_tweets))
                    for start in range(0, len(statuses), 200):
                        self.timeline_page([s._json for s in statuses[start:start + 200]], me.externalId)
            except (tweepy.Unauthorized, tweepy.Forbidden, tweepy.NotFound) as exc:
                # A protected, suspended or deleted account: skipped, as the plugin logged and went on.
                self.skipped.append(f"{user_id}: {exc}")

    def timeline_page(self, payload: list[dict[str, Any]], me_id: str) -> None:
        page = v1.parse_timeline(payload, me_id=me_id)
        self.tweets += len(page.tweet_ids)
        self.write(page.items)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.baseline", description=__doc__.split("\n\n")[0])
    p.add_argument("--api", required=True, help="the emulator's base URL, http://127.0.0.1:PORT")
    p.add_argument("--handle", default="alice")
    p.add_argument("--db", required=True, type=Path, help="the SQLite store file")
    p.add_argument("--following-tweets", type=int, default=5)
    args = p.parse_args(argv)
    sleeps = SleepLog()
    logging.getLogger("tweepy").addHandler(sleeps)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    c = EMULATOR_CREDENTIALS
    auth = PlainHTTPAuth(c["TWITTER_CONSUMER_KEY"], c["TWITTER_CONSUMER_SECRET"],
                         c["TWITTER_ACCESS_TOKEN"], c["TWITTER_ACCESS_SECRET"])
    api = tweepy.API(auth, host=urlsplit(args.api).netloc, wait_on_rate_limit=True, timeout=60)
    store = SQLiteStore(args.db)
    store.open()
    started = time.time()
    importer = Importer(api, store)
    try:
        importer.run(args.handle, args.following_tweets)
    finally:
        store.close()
    print(json.dumps({"started": started, "last_commit": importer.last_commit, "calls": importer.calls,
                      "tweets": importer.tweets, "skipped": importer.skipped, "sleeps": sleeps.sleeps,
                      "tweepy": tweepy.__version__}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
