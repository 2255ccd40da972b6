"""/2 quotas with a short window: headers, 429 in v2's shape, reset, user and app contexts."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from tests.emulator.conftest import oauth, running
from tests.emulator.test_v2_client import BearerAuth, V2Client
from tests.support.servers import ServerProcess

WINDOW = 2
TOO_MANY = {"title": "Too Many Requests", "detail": "Too Many Requests", "type": "about:blank", "status": 429}


@pytest.fixture(scope="module")
def limited() -> Iterator[ServerProcess]:
    with running("--followers", "30", "--followings", "5", "--window", str(WINDOW),
                 "--quota", "users/by/username=3", "--quota", "users/followers=2", "--app-quota", "users/tweets=4",
                 "--extra-bearer-token", "second-app") as server:
        yield server


def reset(server: ServerProcess) -> None:
    server.post_json("/_emulator/quotas/reset")


def test_headers_count_down_then_429_then_reset(limited: ServerProcess) -> None:
    reset(limited)
    with V2Client(limited.url) as v2:
        seen = []
        for _ in range(3):
            r = v2.get("users/by/username/alice")
            assert r.status_code == 200
            seen.append(tuple(int(r.headers[f"x-rate-limit-{k}"]) for k in ("limit", "remaining", "reset")))
        assert [s[:2] for s in seen] == [(3, 2), (3, 1), (3, 0)]
        reset_at = seen[0][2]
        assert all(s[2] == reset_at for s in seen) and time.time() < reset_at <= time.time() + WINDOW + 1
        spent = v2.get("users/by/username/alice")
        assert spent.status_code == 429 and spent.json() == TOO_MANY
        assert spent.headers["content-type"] == "application/problem+json"
        assert (spent.headers["x-rate-limit-remaining"], int(spent.headers["x-rate-limit-reset"])) == ("0", reset_at)
        # other endpoints keep their own budget
        me = limited.get_json("/_emulator/world")["user_id"]
        other = v2.get(f"users/{me}/followers")
        assert other.status_code == 200 and other.headers["x-rate-limit-limit"] == "2"
        time.sleep(max(0.0, reset_at - time.time()) + 0.05)
        again = v2.get("users/by/username/alice")
        assert again.status_code == 200 and again.headers["x-rate-limit-remaining"] == "2"


def test_app_and_user_contexts_have_their_own_quotas(limited: ServerProcess) -> None:
    reset(limited)
    me = limited.get_json("/_emulator/world")["user_id"]
    with V2Client(limited.url) as app, V2Client(limited.url, oauth()) as user, \
            V2Client(limited.url, BearerAuth("second-app")) as other_app:
        for _ in range(4):
            assert app.get(f"users/{me}/tweets").status_code == 200
        assert app.get(f"users/{me}/tweets").status_code == 429
        r = user.get(f"users/{me}/tweets")  # user context: the default 900
        assert r.status_code == 200 and r.headers["x-rate-limit-limit"] == "900"
        assert r.headers["x-rate-limit-remaining"] == "899"
        r = other_app.get(f"users/{me}/tweets")  # another app: a budget of its own
        assert r.status_code == 200 and r.headers["x-rate-limit-remaining"] == "3"
        # --quota sets both contexts; v1.1 endpoints are untouched
        assert app.get("users/by/username/alice").headers["x-rate-limit-limit"] == "3"
        log = app.control("log", since=0)["requests"]
        spent = [e for e in log if e["status"] == 429]
        assert spent and all(e["auth"] == "bearer" and e["token"].startswith("app:") for e in spent)


def test_errors_carry_headers_and_do_not_count(limited: ServerProcess) -> None:
    reset(limited)
    with V2Client(limited.url) as v2:
        assert v2.get("users/by/username/alice", auth=None).status_code == 401
        assert v2.get("users/by/username/alice", auth=BearerAuth("nope")).status_code == 401
        assert v2.get("users/by/username/ALICE").headers["x-rate-limit-remaining"] == "2"  # counted
        bad = v2.get("users/by/username/alice", **{"user.fields": "nope"})
        assert bad.status_code == 400 and bad.headers["x-rate-limit-remaining"] == "1"  # counted too
        missing = v2.get("users/by/username/nobody_here")
        assert missing.status_code == 200 and missing.headers["x-rate-limit-remaining"] == "0"


def test_default_limits_and_quotas_off(emulator: ServerProcess) -> None:
    me = emulator.get_json("/_emulator/world")["user_id"]
    expected = {"users/by/username/alice": ("300", "900"), f"users/{me}/followers": ("15", "15"),
                f"users/{me}/following": ("15", "15"), f"users/{me}/tweets": ("1500", "900")}
    with V2Client(emulator.url) as app, V2Client(emulator.url, oauth()) as user:
        for path, (app_limit, user_limit) in expected.items():
            for _ in range(2):
                a, u = app.get(path), user.get(path)
            assert (a.headers["x-rate-limit-limit"], u.headers["x-rate-limit-limit"]) == (app_limit, user_limit)
            assert a.headers["x-rate-limit-remaining"] == app_limit  # quotas off: never counted down
    server = emulator.get_json("/_emulator/world")["server"]
    assert server["app_limits"]["users/tweets"] == 1500 and server["limits"]["users/tweets"] == 900
