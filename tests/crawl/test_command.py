"""What a user sees from ``scrapy crawl twitter`` when the command line is wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.apiversion import BOTH, ApiVersion
from tests.support.crawl import run_crawl
from tests.support.servers import ServerProcess


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-a", "limit=-3"], "limit='-3' must be 0 or more"),
        (["-a", "parts=user,likes"], "unknown part likes"),
        (["-a", "following_tweets=many"], "following_tweets='many' is not a whole number"),
    ],
)
def test_bad_argument_is_one_line_and_no_request(
    emulator: ServerProcess, tmp_path: Path, args: list[str], message: str
) -> None:
    before = emulator.get_json("/_emulator/log")["last_seq"]
    result = run_crawl(emulator.url, "alice", *args,
                       settings={"POD_URL": f"sqlite:///{tmp_path / 'pod.sqlite3'}"})
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], result.stderr
    assert emulator.get_json("/_emulator/log")["last_seq"] == before
    assert not (tmp_path / "pod.sqlite3").exists()


def test_bad_handle(emulator: ServerProcess, tmp_path: Path) -> None:
    result = run_crawl(emulator.url, "not-a-handle!",
                       settings={"POD_URL": f"sqlite:///{tmp_path / 'pod.sqlite3'}"})
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "twitter: bad argument: handle='not-a-handle!' is not a Twitter handle "
        "(1 to 15 letters, digits or _)"
    )


@pytest.mark.parametrize("api", BOTH)
def test_missing_credentials_against_the_emulator(emulator: ServerProcess, tmp_path: Path, api: ApiVersion) -> None:
    # The crawler has no credentials of its own, not even the emulator's: without any, the crawl
    # stops before its first request, naming every setting it needs (v2 also takes an app-only
    # bearer token instead).
    before = emulator.get_json("/_emulator/log")["last_seq"]
    result = run_crawl(emulator.url, "alice", settings={"POD_URL": f"sqlite:///{tmp_path / 'pod.sqlite3'}",
                                                       **api.settings},
                       env={"TWITTER_CONSUMER_KEY": ""})
    assert result.returncode == 1
    or_bearer = " (or TWITTER_BEARER_TOKEN alone)" if api.v2 else ""
    assert ("Missing Twitter credentials: set TWITTER_CONSUMER_KEY, TWITTER_CONSUMER_SECRET, "
            f"TWITTER_ACCESS_TOKEN, TWITTER_ACCESS_SECRET{or_bearer} (with -s") in result.stderr
    assert "'finish_reason': 'twitter_missing_credentials'" in result.stderr
    assert emulator.get_json("/_emulator/log")["last_seq"] == before


def test_missing_credentials_against_a_remote_api(tmp_path: Path) -> None:
    # Not on this machine: the crawl must stop before any request all the same.
    result = run_crawl("https://api.twitter.invalid", "jack",
                       settings={"POD_URL": f"sqlite:///{tmp_path / 'pod.sqlite3'}",
                                 "TWITTER_CONSUMER_KEY": "only-this-one"})
    assert result.returncode == 1
    assert ("Missing Twitter credentials: set TWITTER_CONSUMER_SECRET, TWITTER_ACCESS_TOKEN, "
            "TWITTER_ACCESS_SECRET") in result.stderr
    assert "'finish_reason': 'twitter_missing_credentials'" in result.stderr
    assert "downloader/request_count" not in result.stderr
