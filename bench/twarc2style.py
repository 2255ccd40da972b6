"""The cost benchmark's measuring stick: an importer that reads an account's world the way twarc2
does, with no memory of an earlier run.

``python -m bench.twarc2style --api http://127.0.0.1:PORT --handle alice --out FILE [--bearer]``

What ``twarc2 user``, ``twarc2 timeline``, ``twarc2 followers``, ``twarc2 following`` and
``twarc2 timelines`` (over the followings) send, one request at a time:

* ``GET /2/users/by/username/:handle``;
* ``GET /2/users/:id/tweets`` with ``max_results=100`` and twarc2's expansions, every page (up to
  the 3,200 the API serves);
* ``GET /2/users/:id/followers`` and ``/following`` with ``max_results=1000``, every page;
* ``GET /2/users/:id/tweets`` of each following, every page (twarc2's ``timelines`` reads whole
  timelines; ``--following-tweets N`` stops after N posts, the crawler's own default, so both
  read the same posts).

twarc2 keeps no state between runs: a rerun reads everything again, which is what the benchmark
prices. Answers go to ``FILE`` as JSON lines, as twarc2 writes them. Credentials: the emulator's
(user context, OAuth 1.0a), or its app-only bearer token with ``--bearer``. Prints one JSON object:
requests sent and resources read per endpoint.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import requests
from requests_oauthlib import OAuth1

from twitter_emulator.credentials import (
    ACCESS_SECRET,
    ACCESS_TOKEN,
    BEARER_TOKEN,
    CONSUMER_KEY,
    CONSUMER_SECRET,
)

# twarc2's defaults (twarc/expansions.py): every expansion and field it asks for.
EXPANSIONS = ("author_id,in_reply_to_user_id,referenced_tweets.id,referenced_tweets.id.author_id,"
              "entities.mentions.username,attachments.media_keys,geo.place_id")
TWEET_FIELDS = ("attachments,author_id,conversation_id,created_at,entities,id,in_reply_to_user_id,"
                "lang,public_metrics,referenced_tweets,source,text")
USER_FIELDS = ("created_at,description,entities,id,location,name,pinned_tweet_id,profile_image_url,"
               "protected,public_metrics,url,username,verified")
MEDIA_FIELDS = "duration_ms,height,media_key,preview_image_url,type,url,width,public_metrics"


class Reader:
    def __init__(self, api: str, bearer: bool, out: Path) -> None:
        self.api = api.rstrip("/")
        self.session = requests.Session()
        if bearer:
            self.session.headers["Authorization"] = f"Bearer {BEARER_TOKEN}"
        else:
            self.session.auth = OAuth1(CONSUMER_KEY, CONSUMER_SECRET, ACCESS_TOKEN, ACCESS_SECRET)
        self.out = out.open("w", encoding="utf-8")
        self.counts: dict[str, dict[str, int]] = {}

    def get(self, name: str, path: str, params: dict[str, Any]) -> dict[str, Any]:
        resp = self.session.get(self.api + path, params=params, timeout=60)
        resp.raise_for_status()
        body: dict[str, Any] = resp.json()
        self.out.write(resp.text.strip() + "\n")
        data = body.get("data")
        count = self.counts.setdefault(name, {"requests": 0, "resources": 0})
        count["requests"] += 1
        count["resources"] += len(data) if isinstance(data, list) else int(data is not None)
        return body

    def pages(self, name: str, path: str, params: dict[str, Any], most: int | None = None) -> list[Any]:
        items: list[Any] = []
        token = None
        while True:
            page = dict(params, **({"pagination_token": token} if token else {}))
            body = self.get(name, path, page)
            items += body.get("data") or []
            token = body.get("meta", {}).get("next_token")
            if not token or (most is not None and len(items) >= most):
                return items

    def timeline(self, user_id: str, most: int | None = None) -> list[Any]:
        return self.pages("users/tweets", f"/2/users/{user_id}/tweets", {
            "max_results": 100, "expansions": EXPANSIONS, "tweet.fields": TWEET_FIELDS,
            "user.fields": USER_FIELDS, "media.fields": MEDIA_FIELDS}, most)

    def contacts(self, user_id: str, which: str) -> list[Any]:
        return self.pages(f"users/{which}", f"/2/users/{user_id}/{which}", {
            "max_results": 1000, "user.fields": USER_FIELDS, "expansions": "pinned_tweet_id",
            "tweet.fields": TWEET_FIELDS})


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.twarc2style")
    p.add_argument("--api", required=True)
    p.add_argument("--handle", default="alice")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--bearer", action="store_true", help="app-only bearer token instead of user context")
    p.add_argument("--following-tweets", type=int, default=5)
    args = p.parse_args(argv)
    reader = Reader(args.api, args.bearer, args.out)
    user = reader.get("users/by/username", f"/2/users/by/username/{args.handle}",
                      {"user.fields": USER_FIELDS})["data"]
    reader.timeline(user["id"])
    reader.contacts(user["id"], "followers")
    followings = reader.contacts(user["id"], "following")
    for account in followings:
        if not account.get("protected"):
            reader.timeline(account["id"], most=args.following_tweets)
    reader.out.close()
    print(json.dumps({"counts": reader.counts}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
