"""Each fatal condition, met by a real ``scrapy crawl`` against the emulator: the crawl closes
with its named reason, says so in one ERROR line, exits non-zero, and spends no more than one
request after the fatal answer (read from the emulator's request log): no retry storm. Over
API v1.1 and, where v2 has the condition, over v2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.apicheck import error_lines, lines, requests_log, stats
from tests.support.apiversion import V1, V2, ApiVersion
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
#: The same conditions over API v2, the same columns. v2 answers every authentication failure
#: with one 401 problem (``Unauthorized``, no code), read as code 32: an unknown access token
#: (v1.1 code 89), a clock that is off (135) and an unsigned request (215) have no v2 answer of
#: their own, so they run over v1.1 only (their v2 outcome is wrong_consumer_secret's). v2 says
#: "unknown" and "suspended" in a 200 (``errors`` and no ``data``), read as codes 50 and 63. Its
#: access-level refusal is 403 ``client-forbidden`` (v1.1's code 453). An app-only bearer token
#: exists over v2 only.
V2_CASES = {
    "wrong_consumer_secret": (("--consumer-secret", "not-the-demo-secret"), "alice", {},
                              "twitter_bad_credentials", 401,
                              ["refused the credentials", "HTTP 401", "Unauthorized"]),
    "unknown_bearer_token": ((), "alice", {"TWITTER_BEARER_TOKEN": "not-the-emulator-token"},
                             "twitter_bad_credentials", 401,
                             ["refused the credentials", "HTTP 401", "Unauthorized",
                              "Check TWITTER_BEARER_TOKEN."]),
    "handle_not_found": ((), "nobody_here", {},
                         "twitter_user_not_found", 200, ["@nobody_here does not exist", "codes [50]"]),
    "handle_suspended": ((), "SUSPENDED", {},
                         "twitter_user_suspended", 200, ["is suspended", "code 63"]),
    "client_forbidden": (("--v2-client-forbidden",), "alice", {},
                         "twitter_access_level", 403, ["HTTP 403", "access level", "Project"]),
}


@pytest.mark.parametrize(
    ("case", "api"),
    [pytest.param(case, V1, id=f"{case}-v1.1") for case in CASES]
    + [pytest.param(case, V2, id=f"{case}-v2") for case in V2_CASES],
)
def test_fatal_condition_closes_with_reason_one_line_and_exit_status(
    case: str, api: ApiVersion, tmp_path: Path
) -> None:
    options, handle, settings, reason, status, words = (V2_CASES if api.v2 else CASES)[case]
    with ServerProcess("twitter_emulator", *SMALL_WORLD, *options) as emulator:
        if handle == "SUSPENDED":
            # A handle the API reports as suspended: the emulator's suspended accounts answer
            # users/show with 403 code 63, as Twitter does for a suspended handle.
            handle = emulator.get_json("/_emulator/world")["suspended"][0]
        result = run_crawl(emulator.url, handle,
                           settings={"POD_URL": f"sqlite:///{tmp_path / 'pod.sqlite3'}", **settings,
                                     **api.settings})
        log = requests_log(emulator)

    assert result.returncode == 1, result.stderr[-3000:]
    dump = stats(result.stderr)
    assert dump["finish_reason"] == reason
    assert lines(result.stderr, "INFO", "scrapy.core.engine")[-1] == f"Spider closed ({reason})"
    [line] = error_lines(result.stderr)
    assert dump["log_count/ERROR"] == 1
    for word in words:
        assert word in line, line
    if api.v2:
        assert "TWITTER_API_VERSION=2" not in line, "advice for v1.1 given over v2"
    assert f"Import stopped: {reason}" in result.stderr

    # the fatal answer, then at most one more request (one already in flight), no retries
    assert {entry["api"] for entry in log} == {api.version}
    fatal = [i for i, entry in enumerate(log) if entry["status"] == status]
    assert fatal, log
    assert len(log) - fatal[0] - 1 <= 1, log
    assert all(entry["endpoint"] != log[fatal[0]]["endpoint"] for entry in log[fatal[0] + 1:])
    assert "retry/count" not in dump and "twitter/errors/auth_retried" not in dump
