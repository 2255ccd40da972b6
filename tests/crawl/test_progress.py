"""The progress line: what is done out of what is known, what waits, and the time left."""

from __future__ import annotations

import time

from scrapy.utils.misc import build_from_crawler
from scrapy.utils.test import get_crawler

from twitter_crawler.extensions.progress import ProgressExtension


class Budget:
    def __init__(self, parked: int, reset_at: float) -> None:
        self.parked = parked
        self.reset_at = reset_at


class FakeRateLimit:
    def __init__(self) -> None:
        self.budgets = {"followers/list": Budget(3, time.time() + 600)}


def test_progress_line(monkeypatch: object) -> None:
    crawler = get_crawler(settings_dict={"TWITTER_PROGRESS_INTERVAL": 30})
    ext = build_from_crawler(ProgressExtension, crawler)
    ext.started = time.monotonic() - 60

    class Stats:
        values = {"twitter/spider/known/followers": 10_412, "twitter/spider/known/following": 180,
                  "twitter/spider/timelines_complete": 50, "twitter/errors/protected": 2}

        def get_value(self, key: str, default: int = 0) -> int:
            return self.values.get(key, default)

    class Downloader:
        class middleware:  # noqa: N801
            middlewares = [FakeRateLimit()]

    class Engine:
        downloader = Downloader()

    crawler.stats = Stats()  # type: ignore[assignment]
    crawler.engine = Engine()  # type: ignore[assignment]
    for _ in range(3000):
        ext.item_scraped({"type": "Edge", "name": "follower"})
    for _ in range(180):
        ext.item_scraped({"type": "Edge", "name": "following"})
    for _ in range(1904):
        ext.item_scraped({"type": "Tweet"})
    line = ext.line()
    assert line.startswith(
        "followers 3,000/10,412 · followings 180/180 · timelines 52/181 · tweets 1,904 · "
        "waiting: followers/list until "
    )
    # 3,232 of 10,773 done in a minute would mean about 2m20s more, but the wait is 10 minutes.
    assert line.endswith(" UTC · about 9m left") or line.endswith(" UTC · about 10m left")
