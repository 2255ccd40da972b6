"""Write throughput of a store: ``python -m twitter_crawler.stores.benchmark [POD_URL]``.

Writes a synthetic import (accounts, tweets with authors, mentions and photos, follow edges) in
batches of ``--batch`` items+edges, the way the store pipeline does, and prints items+edges
written per second. A second pass rewrites the same data (a rerun: everything unchanged).

Without ``POD_URL`` it uses a fresh SQLite file in a temporary directory. For a Pod, give its URL
and the keys with ``--owner-key`` and ``--database-key``, or ``--pod-server`` to start the test
Pod (``python -m twitter_crawler.podserver``) with fresh keys for the run.
"""

from __future__ import annotations

import argparse
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from twitter_crawler.stores.base import Batch, Store, WriteResult, open_store


def synthetic_records(accounts: int, tweets_per_account: int) -> list[tuple[str, dict[str, Any]]]:
    """("item" | "edge", dict) in crawl order: each account, then its tweets and their edges."""
    me = "1000"
    out: list[tuple[str, dict[str, Any]]] = [
        (
            "item",
            {
                "type": "Account",
                "externalId": me,
                "service": "twitter",
                "handle": "me",
                "displayName": "Me",
                "isMe": True,
                "followersCount": accounts,
            },
        ),
    ]
    tweet_id = 10**15
    for a in range(accounts):
        uid = str(2000 + a)
        out.append(
            (
                "item",
                {
                    "type": "Account",
                    "externalId": uid,
                    "service": "twitter",
                    "handle": f"user{a}",
                    "displayName": f"User {a}",
                    "description": "Just a synthetic account " * 3,
                    "location": "Somewhere",
                    "followersCount": a * 7,
                    "followingCount": a * 3,
                    "tweetCount": tweets_per_account,
                    "listedCount": 1,
                    "verified": False,
                    "protected": False,
                    "dateJoined": "2012-01-01T00:00:00Z",
                    "avatarUrl": f"https://pbs.twimg.com/profile_images/{uid}/a.jpg",
                },
            )
        )
        out.append(
            (
                "edge",
                {
                    "type": "Edge",
                    "name": "following",
                    "source": {"type": "Account", "externalId": me},
                    "target": {"type": "Account", "externalId": uid},
                },
            )
        )
        for _ in range(tweets_per_account):
            tweet_id += 1
            tid = str(tweet_id)
            out.append(
                (
                    "item",
                    {
                        "type": "Tweet",
                        "externalId": tid,
                        "service": "twitter",
                        "message": f"Tweet {tid}, with some text in it, as long as a real one.",
                        "postDate": "2020-05-01T12:00:00Z",
                        "tweetType": "tweet",
                        "lang": "en",
                        "source": "Twitter Web App",
                        "retweetCount": 3,
                        "likeCount": 9,
                    },
                )
            )
            out.append(
                (
                    "edge",
                    {
                        "type": "Edge",
                        "name": "author",
                        "source": {"type": "Tweet", "externalId": tid},
                        "target": {"type": "Account", "externalId": uid},
                    },
                )
            )
            out.append(
                (
                    "edge",
                    {
                        "type": "Edge",
                        "name": "mention",
                        "source": {"type": "Tweet", "externalId": tid},
                        "target": {"type": "Account", "externalId": me},
                    },
                )
            )
            if tweet_id % 4 == 0:
                out.append(
                    (
                        "item",
                        {
                            "type": "Photo",
                            "externalId": f"9{tid}",
                            "url": f"https://pbs.twimg.com/media/{tid}.jpg",
                            "width": 1200,
                            "height": 800,
                        },
                    )
                )
                out.append(
                    (
                        "edge",
                        {
                            "type": "Edge",
                            "name": "photo",
                            "source": {"type": "Tweet", "externalId": tid},
                            "target": {"type": "Photo", "externalId": f"9{tid}"},
                        },
                    )
                )
    return out


def batches(records: list[tuple[str, dict[str, Any]]], size: int) -> list[Batch]:
    out = []
    for start in range(0, len(records), size):
        batch = Batch()
        for kind, record in records[start : start + size]:
            (batch.items if kind == "item" else batch.edges).append(record)
        out.append(batch)
    return out


def run(store: Store, all_batches: list[Batch]) -> tuple[float, WriteResult]:
    total = WriteResult()
    started = time.perf_counter()
    for batch in all_batches:
        total.add(store.write(batch))
    return time.perf_counter() - started, total


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url", nargs="?", help="POD_URL (default: a temporary SQLite file)")
    parser.add_argument("--accounts", type=int, default=500)
    parser.add_argument("--tweets", type=int, default=20, help="tweets per account")
    parser.add_argument("--batch", type=int, default=500, help="items+edges per batch")
    parser.add_argument("--owner-key", default="")
    parser.add_argument("--database-key", default="")
    parser.add_argument("--pod-server", action="store_true", help="start the test Pod and use it")
    args = parser.parse_args(argv)

    server = None
    if args.pod_server:
        server = subprocess.Popen(
            [sys.executable, "-m", "twitter_crawler.podserver", "--port", "0"],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert server.stdout is not None
        args.url = server.stdout.readline().strip()
        args.owner_key, args.database_key = secrets.token_hex(32), secrets.token_hex(32)
    try:
        _bench(args)
    finally:
        if server is not None:
            server.terminate()
            server.communicate(timeout=30)


def _bench(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = args.url or f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
        records = synthetic_records(args.accounts, args.tweets)
        all_batches = batches(records, args.batch)
        store = open_store(url, owner_key=args.owner_key, database_key=args.database_key)
        store.open()
        try:
            print(  # noqa: T201
                f"{store.describe()}: {len(records):,} items+edges in "
                f"{len(all_batches):,} batches of {args.batch}"
            )
            for label in ("first import", "rerun (unchanged)"):
                seconds, result = run(store, all_batches)
                print(  # noqa: T201
                    f"  {label}: {seconds:.2f} s, {len(records) / seconds:,.0f} items+edges/s; "
                    f"created {sum(result.created.values()):,}, "
                    f"updated {sum(result.updated.values()):,}, "
                    f"unchanged {sum(result.unchanged.values()):,}, "
                    f"edges created {sum(result.edges_created.values()):,}"
                )
        finally:
            store.close()


if __name__ == "__main__":
    main()
