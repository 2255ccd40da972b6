"""Per (token, endpoint) quotas with a short window: headers, countdown, 429, reset."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from requests_oauthlib import OAuth1

from tests.emulator.conftest import CREDS, Client, errors_of, running
from tests.support.servers import ServerProcess

WINDOW = 2


@pytest.fixture(scope="module")
def limited() -> Iterator[ServerProcess]:
    with running("--followers", "30", "--followings", "5", "--window", str(WINDOW),
                 "--quota", "users/show=3", "--quota", "/followers/ids.json=2",
                 "--extra-token", "2-second-token:second-secret") as server:
        yield server


def test_headers_count_down_then_429_then_reset(limited: ServerProcess) -> None:
    client = Client(limited.url)
    client.session.post(f"{limited.url}/_emulator/quotas/reset", timeout=10)
    seen = []
    for _ in range(3):
        r = client.get("users/show", screen_name="alice")
        assert r.status_code == 200
        seen.append((int(r.headers["x-rate-limit-limit"]), int(r.headers["x-rate-limit-remaining"]),
                     int(r.headers["x-rate-limit-reset"])))
    assert [s[:2] for s in seen] == [(3, 2), (3, 1), (3, 0)]
    reset = seen[0][2]
    assert all(s[2] == reset for s in seen) and time.time() < reset <= time.time() + WINDOW + 1
    spent = client.get("users/show", screen_name="alice")
    assert spent.status_code == 429
    assert spent.json() == {"errors": [{"code": 88, "message": "Rate limit exceeded"}]}
    assert (spent.headers["x-rate-limit-remaining"], int(spent.headers["x-rate-limit-reset"])) == ("0", reset)
    # other endpoints keep their own budget
    other = client.get("followers/ids", screen_name="alice")
    assert other.status_code == 200 and other.headers["x-rate-limit-limit"] == "2"
    time.sleep(max(0.0, reset - time.time()) + 0.05)
    again = client.get("users/show", screen_name="alice")
    assert again.status_code == 200 and again.headers["x-rate-limit-remaining"] == "2"
    assert int(again.headers["x-rate-limit-reset"]) > reset
    client.close()


def test_quotas_are_per_token(limited: ServerProcess) -> None:
    client = Client(limited.url)
    for _ in range(2):
        assert client.get("followers/ids", screen_name="alice").status_code in (200, 429)
    assert client.get("followers/ids", screen_name="alice").status_code == 429
    second = OAuth1(CREDS["TWITTER_CONSUMER_KEY"], CREDS["TWITTER_CONSUMER_SECRET"], "2-second-token", "second-secret")
    r = client.get("followers/ids", auth=second, screen_name="alice")
    assert r.status_code == 200 and r.headers["x-rate-limit-remaining"] == "1"
    rls = client.get("application/rate_limit_status", auth=second, resources="followers,users").json()
    assert rls["rate_limit_context"] == {"access_token": "2-second-token"}
    assert rls["resources"]["followers"]["/followers/ids"]["remaining"] == 1
    assert set(rls["resources"]) == {"followers", "users"}
    client.session.post(f"{limited.url}/_emulator/quotas/reset", timeout=10)
    assert client.get("followers/ids", screen_name="alice").headers["x-rate-limit-remaining"] == "1"
    client.close()


def test_errors_carry_headers_and_do_not_count(limited: ServerProcess) -> None:
    client = Client(limited.url)
    client.session.post(f"{limited.url}/_emulator/quotas/reset", timeout=10)
    bad = client.get("users/show", auth=None, screen_name="alice")
    assert bad.status_code == 400 and errors_of(bad) == [215]
    assert bad.headers["x-rate-limit-remaining"] == "3"
    missing = client.get("users/show", screen_name="nobody_here")
    assert missing.status_code == 404 and missing.headers["x-rate-limit-remaining"] == "2"  # counted
    unknown = client.get("statuses/home_timeline")
    assert (unknown.status_code, errors_of(unknown)) == (404, [34])
    assert "x-rate-limit-reset" in unknown.headers
    client.close()


def test_quotas_off_still_sends_headers(emulator: ServerProcess) -> None:
    client = Client(emulator.url)
    for _ in range(20):
        r = client.get("followers/ids", screen_name="alice", count=1)
        assert r.status_code == 200
    assert r.headers["x-rate-limit-limit"] == "15" and r.headers["x-rate-limit-remaining"] == "15"
    client.close()
