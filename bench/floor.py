"""What parsing and storing cost without Scrapy: the floor under the throughput benchmark.

Fetches every timeline page of a throughput world from the emulator (signed with OAuth 1.0a,
one at a time) and, page by page, times only the work the crawl does on it, with the project's
own code: ``json.loads``, ``twitter_crawler.api.v1.parse.parse_timeline``, ``to_dict`` of every
item, and ``SQLiteStore.write`` of batches of 500 items and edges (``POD_BATCH_SIZE``). The
fetching is not timed. The difference between these tweets/s and the crawl's is the cost of
running the same work through Scrapy (requests, middlewares, one item at a time through the
signals and pipelines).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import requests
from requests_oauthlib import OAuth1

from twitter_crawler.api.v1 import parse as v1
from twitter_crawler.items import to_dict
from twitter_crawler.stores.base import Batch
from twitter_crawler.stores.sqlite import SQLiteStore
from twitter_emulator.credentials import CRAWL_ENV as EMULATOR_CREDENTIALS

BATCH = 500


def measure(api: str, summary: dict[str, Any], per_following: int, db: Path) -> dict[str, float]:
    c = EMULATOR_CREDENTIALS
    auth = OAuth1(c["TWITTER_CONSUMER_KEY"], c["TWITTER_CONSUMER_SECRET"],
                  c["TWITTER_ACCESS_TOKEN"], c["TWITTER_ACCESS_SECRET"])
    session = requests.Session()
    me = summary["user_id"]

    def get(endpoint: str, **params: Any) -> bytes:
        r = session.get(f"{api}/1.1/{endpoint}.json", params=params, auth=auth, timeout=60)
        r.raise_for_status()
        return r.content

    friends = json.loads(get("friends/ids", user_id=me, count=5000, stringify_ids="true"))["ids"]
    walks = [(me, 3200)] + [(f, per_following) for f in friends]
    store = SQLiteStore(db)
    store.open()
    t = {"json": 0.0, "parse": 0.0, "to_dict": 0.0, "store": 0.0}
    tweets = items = 0
    batch = Batch()

    def flush() -> None:
        nonlocal batch
        t0 = time.perf_counter()
        store.write(batch)
        t["store"] += time.perf_counter() - t0
        batch = Batch()

    try:
        for user_id, wanted in walks:
            max_id = None
            fetched = 0
            while fetched < wanted:
                params = {"user_id": user_id, "count": min(200, wanted - fetched), "tweet_mode": "extended",
                          "include_rts": "true"}
                if max_id:
                    params["max_id"] = max_id
                body = get("statuses/user_timeline", **params)
                t0 = time.perf_counter()
                payload = json.loads(body)
                t1 = time.perf_counter()
                page = v1.parse_timeline(payload, me_id=me)
                t2 = time.perf_counter()
                dicts = [(i.type == "Edge", to_dict(i)) for i in page.items]
                t3 = time.perf_counter()
                t["json"] += t1 - t0
                t["parse"] += t2 - t1
                t["to_dict"] += t3 - t2
                for is_edge, d in dicts:
                    (batch.edges if is_edge else batch.items).append(d)
                    if len(batch) >= BATCH:
                        flush()
                items += len(dicts)
                if not page.tweet_ids:
                    break
                tweets += len(page.tweet_ids)
                fetched += len(page.tweet_ids)
                max_id = str(min(int(i) for i in page.tweet_ids) - 1)
        if len(batch):
            flush()
    finally:
        store.close()
    total = sum(t.values())
    return {"tweets": tweets, "items": items, **t, "total": total, "tweets_per_s": tweets / total}
