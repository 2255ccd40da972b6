"""The usage cap and other "stop" problems of the emulator (``emulator/usage.py``), over real
HTTP: X's usage-capped answer (X_API_2026.md §4) key for key, with headers that still show
rate-limit budget; the rule for the answer that crosses the cap; v1.1 never counted nor refused;
the control endpoint that lifts or changes the cap; the credits refusal."""

from __future__ import annotations

from typing import Any

import requests

from tests.emulator.conftest import Client, running
from tests.emulator.test_v2_client import V2Client
from tests.support.servers import ServerProcess

CAPPED_TYPE = "https://api.twitter.com/2/problems/usage-capped"
WORLD = ("--followers", "5", "--followings", "3", "--tweets", "500", "--following-tweets", "2",
         "--seed", "3")


def tweets_pages(v2: V2Client, user_id: str, pages: int) -> list[requests.Response]:
    """``pages`` pages of 100 of the user's timeline, following ``next_token``."""
    out: list[requests.Response] = []
    params: dict[str, Any] = {"max_results": "100"}
    for _ in range(pages):
        r = v2.get(f"users/{user_id}/tweets", **params)
        out.append(r)
        if r.status_code != 200:
            break
        params["pagination_token"] = r.json()["meta"]["next_token"]
    return out


def post(server: ServerProcess, body: Any) -> requests.Response:
    return requests.post(f"{server.url}/_emulator/usage", json=body, timeout=30)


def test_capped_answer_is_xs_shape_after_the_crossing_answer() -> None:
    with running(*WORLD, "--usage-cap", "150") as server, V2Client(server.url) as v2:
        me = server.get_json("/_emulator/world")["user_id"]
        first, second, third = tweets_pages(v2, me, 3)
        # 100 served (< 150): served; 200 (the crossing answer): served whole, as X bills it
        assert first.status_code == 200 and len(first.json()["data"]) == 100
        assert second.status_code == 200 and len(second.json()["data"]) == 100
        assert third.status_code == 429
        assert third.headers["content-type"] == "application/problem+json"
        assert third.json() == {
            "account_id": third.json()["account_id"], "product_name": "standard-basic",
            "title": "UsageCapExceeded", "period": "Monthly", "scope": "Product",
            "detail": "Usage cap exceeded: Monthly product cap", "type": CAPPED_TYPE,
        }
        assert list(third.json()) == ["account_id", "product_name", "title", "period", "scope",
                                      "detail", "type"]
        assert third.json()["account_id"].isdigit()
        # the rate-limit budget is not spent: what makes a header-only client retry for ever
        limit = int(third.headers["x-rate-limit-limit"])
        assert 0 < int(third.headers["x-rate-limit-remaining"]) < limit
        assert int(third.headers["x-rate-limit-reset"]) > 0
        # every /2 data endpoint is refused, not only the tweets
        for path in ("users/by/username/alice", f"users/{me}/followers", f"users/{me}/following"):
            r = v2.get(path)
            assert (r.status_code, r.json()["type"]) == (429, CAPPED_TYPE), path
        assert server.get_json("/_emulator/usage") == {
            "cap": 150, "period": "Monthly", "served": 200, "capped": True, "problem": None,
            "refused": 4, "credits": None}
        log = server.get_json("/_emulator/log")["requests"]
        assert [e["problem"] for e in log] == [None, None, CAPPED_TYPE, CAPPED_TYPE, CAPPED_TYPE,
                                               CAPPED_TYPE]


def test_v1_is_never_counted_nor_refused() -> None:
    with running(*WORLD, "--usage-cap", "0") as server, V2Client(server.url) as v2:
        v1 = Client(server.url)
        try:
            r = v1.get("statuses/user_timeline", screen_name="alice", count=200)
            assert r.status_code == 200 and len(r.json()) == 200
        finally:
            v1.close()
        assert server.get_json("/_emulator/usage")["served"] == 0
        r = v2.get("users/by/username/alice")  # a cap of 0 refuses the first /2 request
        assert r.status_code == 429 and r.json()["type"] == CAPPED_TYPE


def test_control_endpoint_lifts_sets_and_changes_the_cap() -> None:
    with running(*WORLD, "--usage-cap", "0", "--usage-cap-period", "Daily") as server, \
            V2Client(server.url) as v2:
        me = server.get_json("/_emulator/world")["user_id"]
        r = v2.get(f"users/{me}/tweets")
        assert r.status_code == 429
        assert (r.json()["period"], r.json()["detail"]) == ("Daily", "Usage cap exceeded: Daily product cap")
        lifted = post(server, {"cap": None})
        assert lifted.status_code == 200 and lifted.json()["cap"] is None
        assert [r.status_code for r in tweets_pages(v2, me, 2)] == [200, 200]
        assert server.get_json("/_emulator/usage")["served"] == 200
        # a new cap below what was served refuses at once; a new cycle (served 0) serves again
        assert post(server, {"cap": 250, "period": "Monthly"}).json()["capped"] is False
        assert [r.status_code for r in tweets_pages(v2, me, 3)] == [200, 429]  # 300 >= 250
        assert v2.get(f"users/{me}/tweets").json()["period"] == "Monthly"
        assert post(server, {"served": 0}).json()["capped"] is False
        assert v2.get(f"users/{me}/tweets").status_code == 200
        # bad bodies change nothing
        for bad in ({"cap": -1}, {"cap": "5"}, {"period": "Weekly"}, {"nope": 1}, [1],
                    {"problem": {"status": 429, "type": "x", "title": "t", "detail": "d"}},
                    {"problem": {"status": 403, "title": "t", "detail": "d"}}):
            r = post(server, bad)
            assert r.status_code == 400 and "error" in r.json(), bad
        assert server.get_json("/_emulator/usage")["cap"] == 250


def test_credits_exhausted_and_any_other_problem() -> None:
    with running(*WORLD, "--credits-exhausted") as server, V2Client(server.url) as v2:
        r = v2.get("users/by/username/alice")
        assert r.status_code == 402
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json() == {
            "title": "CreditsDepleted",
            "detail": "Your enrolled account does not have any credits to fulfill this request.",
            "type": "https://api.twitter.com/2/problems/credits",
        }
        assert int(r.headers["x-rate-limit-remaining"]) > 0
        assert post(server, {"credits_exhausted": False}).json()["problem"] is None
        assert v2.get("users/by/username/alice").status_code == 200
        problem = {"status": 403, "type": "https://api.twitter.com/2/problems/something-new",
                   "title": "SomethingNew", "detail": "A refusal nobody documented."}
        assert post(server, {"problem": problem}).status_code == 200
        r = v2.get("users/by/username/alice")
        assert r.status_code == 403
        assert r.json() == {k: v for k, v in problem.items() if k != "status"}
        assert server.get_json("/_emulator/log")["requests"][-1]["problem"] == problem["type"]
        assert post(server, {"problem": None}).status_code == 200
        assert v2.get("users/by/username/alice").status_code == 200
