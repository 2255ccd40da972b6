"""PostgreSQL restarted in the middle of a crawl (PRODUCT.md §8, issue 18): the batches it
refused are retried, the store connects again, and the crawl ends with exactly the truth."""

from __future__ import annotations

import time
from collections.abc import Callable

from tests.incremental.support import (
    PostgresTarget,
    assert_equals_truth,
    crawl_stats,
    error_lines,
    me_id,
    truth,
)
from tests.support.apiversion import V2
from tests.support.process import CrawlProcess
from tests.support.servers import PostgresServer, ServerProcess


def test_postgres_restarted_mid_crawl(start_emulator: Callable[..., ServerProcess]) -> None:
    # The own timeline is 8 slow pages (v2: 100 a page): the crawl is still writing when the
    # server stops.
    emulator = start_emulator("--followers", "40", "--followings", "6", "--tweets", "800",
                              "--following-tweets", "5", "--quotas", "off", "--latency", "0.3",
                              "--seed", "4")
    with PostgresServer() as server:  # a server of its own: it is stopped
        target = PostgresTarget(server.create_database("outage"))
        settings = {**target.settings(), "POD_BATCH_SECONDS": "0.2", "POD_RETRY_TIMES": "6",
                    "POD_RETRY_BACKOFF": "0.5", **V2.settings}
        crawl = CrawlProcess(emulator.url, "alice", settings=settings)
        try:
            crawl.wait_for(lambda: target.tweet_count() > 0)
            server.halt()
            time.sleep(3)
            assert crawl.proc.poll() is None, "the crawl ended while the server was down"
            server.resume()
            assert crawl.wait(300) == 0, crawl.log[-3000:]
        finally:
            crawl.close()
        assert "Could not write a batch" in crawl.log, "no write hit the outage"
        assert error_lines(crawl.log) == []
        assert crawl_stats(crawl.log)["twitter/store/retries"] >= 1
        assert_equals_truth(target.snapshot(), truth(emulator, V2), me_id(emulator))
