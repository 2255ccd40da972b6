"""A Scrapy stats collector for the benchmarks: Scrapy's own, plus a timeline, written to JSON.

Selected with ``-s STATS_CLASS=bench.statscollector.BenchStatsCollector -s BENCH_STATS_FILE=PATH``,
so the crawl under test runs unchanged (same settings, middlewares, pipelines and extensions).
It records, in epoch seconds, when counters that mark progress were first and last incremented:

* ``downloader/request_count`` and ``downloader/response_count``: the API phase;
* ``twitter/store/batches``: the store pipeline increments it after each batch is committed, so
  its last increment is the commit of the last item.

On close it writes every stat (datetimes as epoch seconds) and that timeline to ``BENCH_STATS_FILE``.
With ``-s BENCH_TRACEMALLOC=1`` it also traces allocations from its creation (before the spider
opens) and writes the 25 source lines holding the most memory at the close (slow: diagnostics only).
"""

from __future__ import annotations

import json
import time
import tracemalloc
from datetime import datetime
from typing import Any

from scrapy.statscollectors import MemoryStatsCollector

#: Counters whose first and last increments are timed.
TIMED = ("downloader/request_count", "downloader/response_count", "twitter/store/batches",
         "item_scraped_count")


class BenchStatsCollector(MemoryStatsCollector):
    def __init__(self, crawler: Any) -> None:
        super().__init__(crawler)
        self._path = crawler.settings.get("BENCH_STATS_FILE") or ""
        self._times: dict[str, list[float]] = {}
        self._trace = crawler.settings.getbool("BENCH_TRACEMALLOC")
        if self._trace:
            tracemalloc.start(1)

    def inc_value(self, key: str, count: int = 1, start: int = 0, spider: Any = None) -> None:
        d = self._stats
        d[key] = d.setdefault(key, start) + count
        if key in TIMED:
            now = time.time()
            span = self._times.get(key)
            if span is None:
                self._times[key] = [now, now]
            else:
                span[1] = now

    def close_spider(self, spider: Any = None, reason: str | None = None) -> None:
        super().close_spider(reason=reason)
        if not self._path:
            return
        stats = {k: (v.timestamp() if isinstance(v, datetime) else v) for k, v in self._stats.items()}
        out: dict[str, Any] = {"stats": stats, "times": self._times, "closed_at": time.time()}
        if self._trace:
            snapshot = tracemalloc.take_snapshot()
            top = snapshot.statistics("lineno")
            current, peak = tracemalloc.get_traced_memory()
            out["tracemalloc"] = {
                "total_mb": current / 2**20,
                "peak_mb": peak / 2**20,
                "top": [{"where": str(s.traceback[0]), "mb": s.size / 2**20, "blocks": s.count} for s in top[:25]],
            }
        with open(self._path, "w", encoding="utf-8") as f:
            json.dump(out, f, indent=1, sort_keys=True, default=str)
