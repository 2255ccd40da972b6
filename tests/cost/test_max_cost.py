"""``TWITTER_MAX_COST`` in real crawls of API v2 against the emulator's bill: a crawl never
spends more than the limit, stops with reason ``cost_limit`` (exit 1) and one line saying what
was imported and how to go on; with the same JOBDIR, a run with a higher limit completes and the
two runs together cost about what one uninterrupted import costs (a fresh emulator)."""

from __future__ import annotations

from pathlib import Path

from tests.cost.test_meter import bill, crawl_result
from tests.support.apicheck import error_lines, stats
from tests.support.servers import ServerProcess

# The followings' timelines are most of the cost: 40 of 20 posts ($0.10 each at worst and
# in fact), so the limit falls in the middle of them. A contacts page may hold 1,000 users
# ($1.00 each at the owned price, at worst): the limit must let both lists through first.
WORLD = ("--handle", "alice", "--followers", "60", "--followings", "40", "--tweets", "40",
         "--following-tweets", "20", "--protected-followings", "0", "--suspended-followings", "0",
         "--seed", "12")
ARGS = ("-a", "following_tweets=20")
LIMIT = 2.50


def test_the_limit_is_never_exceeded_and_a_resumed_run_completes(tmp_path: Path) -> None:
    with ServerProcess("twitter_emulator", *WORLD) as whole:
        full = crawl_result(whole, tmp_path / "whole", *ARGS)
        assert full.returncode == 0, full.stderr[-3000:]
        one_run = bill(whole)["micro"]
    assert one_run > LIMIT * 1e6 * 1.4  # the limit stops the import well before its end

    with ServerProcess("twitter_emulator", *WORLD) as server:
        job = {"JOBDIR": str(tmp_path / "job")}
        first = crawl_result(server, tmp_path / "parts", *ARGS,
                             settings={**job, "TWITTER_MAX_COST": str(LIMIT)})
        assert first.returncode == 1, first.stderr[-3000:]
        assert "Spider closed (cost_limit)" in first.log
        spent = bill(server)["micro"]
        assert 0 < spent <= LIMIT * 1e6
        assert stats(first.log)["twitter/cost/micro_usd"] == spent
        [line] = [e for e in error_lines(first.log) if "TWITTER_MAX_COST" in e]
        assert line.startswith("TWITTER_MAX_COST $2.50 reached: $"), line
        assert "tweets imported" in line and "higher TWITTER_MAX_COST" in line and "JOBDIR" in line

        second = crawl_result(server, tmp_path / "parts", *ARGS, settings={**job, "TWITTER_MAX_COST": "100"})
        assert second.returncode == 0, second.stderr[-3000:]
        total = bill(server)["micro"]
        assert stats(second.log)["twitter/cost/micro_usd"] == total - spent
    assert abs(total - one_run) <= 0.10 * one_run, (total, one_run)
