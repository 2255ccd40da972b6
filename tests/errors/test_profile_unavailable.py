"""Without the account's profile nothing can be imported: that is a failure, not a finished crawl."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.apiversion import BOTH, ApiVersion
from tests.support.crawl import run_crawl
from tests.support.servers import ServerProcess

FAST_RETRIES = {"RETRY_TIMES": "1", "TWITTER_RETRY_BACKOFF_BASE": "0"}


@pytest.mark.parametrize("api", BOTH)
@pytest.mark.parametrize("action", ["503", "drop", "truncate"])
def test_profile_that_never_comes_closes_with_a_reason(tmp_path: Path, action: str, api: ApiVersion) -> None:
    with ServerProcess("twitter_emulator", "--followers", "5") as emulator, \
            ServerProcess("tests.support.faultproxy", "--upstream", emulator.url,
                          "--rule", f"{api.profile}={action}") as proxy:
        result = run_crawl(proxy.url, "alice", settings={
            "POD_URL": f"sqlite:///{tmp_path / 'pod.sqlite3'}", **FAST_RETRIES, **api.settings})
    assert result.returncode == 1, result.stderr[-2000:]
    assert "'finish_reason': 'twitter_unavailable'" in result.stderr
    errors = [line for line in result.stderr.splitlines() if "] ERROR: " in line]
    ours = [line for line in errors if "nothing can be imported now" in line]
    assert len(ours) == 1, errors
    assert "@alice" in ours[0]


def test_unreachable_api(tmp_path: Path) -> None:
    # Port 9 (discard) on this machine: nothing listens, the connection is refused.
    result = run_crawl("http://127.0.0.1:9", "alice", settings={
        "POD_URL": f"sqlite:///{tmp_path / 'pod.sqlite3'}", **FAST_RETRIES})
    assert result.returncode == 1
    assert "'finish_reason': 'twitter_unavailable'" in result.stderr
    assert "Twitter could not be reached for @alice" in result.stderr
    assert "Check TWITTER_API_URL" in result.stderr
