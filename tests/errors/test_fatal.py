"""Each fatal condition, met by a real ``scrapy crawl`` against the emulator: the crawl closes
with its named reason, says so in one ERROR line, exits non-zero, and spends no more than one
request after the fatal answer (read from the emulator's request log): no retry storm."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.apicheck import error_lines, lines, requests_log, stats
from tests.support.crawl import run_crawl
from tests.support.servers import ServerProcess

SMALL_WORLD = ("--followers", "5", "--followings", "3", "--tweets", "10", "--following-tweets", "2",
               "--protected-followings", "1", "--suspended-followings", "1", "--seed", "3")
UNSIGNED = json.dumps({"twitter_crawler.downloadermiddlewares.oauth.OAuth1Middleware": None})

CASES = {
    # name: (emulator options, handle, crawl settings, reason, HTTP status, words of the line)
    "wrong_consumer_secret": (("--consumer-secret", "not-the-demo-secret"), "alice", {},
                              "twitter_bad_credentials", 401, ["refused the credentials", "codes [32]"]),
    "unknown_access_token": (("--access-token", "9-someone-else"), "alice", {},
                             "twitter_bad_credentials", 401, ["refused the credentials", "codes [89]"]),
    # Any signed timestamp (whole seconds) is "out of bounds" of a microsecond window.
    "clock_off": (("--timestamp-window", "0.000001"), "alice", {},
                  "twitter_bad_credentials", 401, ["codes [135]", "clock"]),
    "unsigned": ((), "alice", {"DOWNLOADER_MIDDLEWARES": UNSIGNED},
                 "twitter_bad_credentials", 400, ["codes [215]"]),
    "handle_not_found": ((), "nobody_here", {},
                         "twitter_user_not_found", 404, ["@nobody_here does not exist", "codes [50]"]),
    "handle_suspended": ((), "SUSPENDED", {},
                         "twitter_user_suspended", 403, ["is suspended", "code 63"]),
    "access_level_453": (("--access-level-453",), "alice", {},
                         "twitter_access_level", 403,
                         ["code 453", "v1.1 reads need an elevated access level", "API v2",
                          "alternative"]),
}


@pytest.mark.parametrize("case", list(CASES))
def test_fatal_condition_closes_with_reason_one_line_and_exit_status(case: str, tmp_path: Path) -> None:
    options, handle, settings, reason, status, words = CASES[case]
    with ServerProcess("twitter_crawler.emulator", *SMALL_WORLD, *options) as emulator:
        if handle == "SUSPENDED":
            # A handle the API reports as suspended: the emulator's suspended accounts answer
            # users/show with 403 code 63, as Twitter does for a suspended handle.
            handle = emulator.get_json("/_emulator/world")["suspended"][0]
        result = run_crawl(emulator.url, handle,
                           settings={"POD_URL": f"sqlite:///{tmp_path / 'pod.sqlite3'}", **settings})
        log = requests_log(emulator)

    assert result.returncode == 1, result.stderr[-3000:]
    dump = stats(result.stderr)
    assert dump["finish_reason"] == reason
    assert lines(result.stderr, "INFO", "scrapy.core.engine")[-1] == f"Spider closed ({reason})"
    [line] = error_lines(result.stderr)
    assert dump["log_count/ERROR"] == 1
    for word in words:
        assert word in line, line
    assert f"Import stopped: {reason}" in result.stderr

    # the fatal answer, then at most one more request (one already in flight), no retries
    fatal = [i for i, entry in enumerate(log) if entry["status"] == status]
    assert fatal, log
    assert len(log) - fatal[0] - 1 <= 1, log
    assert all(entry["endpoint"] != log[fatal[0]]["endpoint"] for entry in log[fatal[0] + 1:])
    assert "retry/count" not in dump and "twitter/errors/auth_retried" not in dump
