"""Pay-per-use billing of the emulator (``twitter_emulator/billing.py``), over real HTTP: X's
prices per resource returned, Owned Reads, daily deduplication (the same day and the next),
what is not billed (v1.1, failures, empty answers, includes: counted apart), ``--credits``
(402 as for exhausted credits), ``/2/users/me``, ``/2/usage/tweets`` and the control endpoints
``GET /_emulator/bill`` and ``POST /_emulator/billing``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests.emulator.conftest import Client, oauth, running
from tests.emulator.test_v2_client import V2Client
from tests.support.servers import ServerProcess
from twitter_crawler.api.v2.requests import EXPANSIONS, MEDIA_FIELDS, TWEET_FIELDS, USER_FIELDS

WORLD = ("--followers", "30", "--followings", "12", "--tweets", "60", "--following-tweets", "10",
         "--protected-followings", "0", "--suspended-followings", "0", "--seed", "5")
FULL = {"tweet.fields": TWEET_FIELDS, "expansions": EXPANSIONS, "media.fields": MEDIA_FIELDS,
        "user.fields": USER_FIELDS}
UNSUPPORTED = "https://api.twitter.com/2/problems/unsupported-authentication"
CREDITS = {"title": "CreditsDepleted",
           "detail": "Your enrolled account does not have any credits to fulfill this request.",
           "type": "https://api.twitter.com/2/problems/credits"}


def bill(server: ServerProcess) -> dict[str, Any]:
    return server.get_json("/_emulator/bill")


def counts(server: ServerProcess) -> dict[str, int]:
    return {k: v["count"] for k, v in bill(server)["kinds"].items()}


def billing(server: ServerProcess, body: Any) -> requests.Response:
    return requests.post(f"{server.url}/_emulator/billing", json=body, timeout=30)


@pytest.fixture()
def server() -> Iterator[ServerProcess]:
    with running(*WORLD) as s:
        yield s


def ids(server: ServerProcess) -> tuple[str, str]:
    """(main account id, the id of one of its followings)."""
    me = server.get_json("/_emulator/world")["user_id"]
    with V2Client(server.url) as v2:
        other = v2.get(f"users/{me}/following", max_results=1).json()["data"][0]["id"]
    return me, other


def test_prices_per_resource_returned_and_the_bill_to_the_cent(server: ServerProcess) -> None:
    me, other = ids(server)  # one following read: 1 follow
    with V2Client(server.url) as v2:  # app-only bearer: never an Owned Read
        assert v2.get("users/by/username/alice").status_code == 200  # 1 user
        assert len(v2.get(f"users/{me}/followers", max_results=25).json()["data"]) == 25  # 25 follows
        assert len(v2.get(f"users/{other}/tweets", max_results=7).json()["data"]) == 7  # 7 posts
        assert len(v2.get(f"users/{me}/tweets", max_results=5).json()["data"]) == 5  # 5 posts (bearer)
    b = bill(server)
    assert {k: (v["count"], v["usd"]) for k, v in b["kinds"].items()} == {
        "posts": (12, 0.06), "users": (1, 0.01), "follows": (26, 0.26), "owned": (0, 0.0)}
    assert (b["total_usd"], b["total_micro_usd"], b["total_cents"]) == (0.33, 330_000, "0.33")
    assert {k: v["price_usd"] for k, v in b["kinds"].items()} == {
        "posts": 0.005, "users": 0.01, "follows": 0.01, "owned": 0.001}
    assert b["billed_requests"] == 5
    # each answer's cost is in the log
    log = server.get_json("/_emulator/log")["requests"]
    assert [e["cost_micro_usd"] for e in log] == [10_000, 10_000, 250_000, 35_000, 25_000]


def test_owned_reads_are_the_app_owners_own_id_in_user_context(server: ServerProcess) -> None:
    me, other = ids(server)
    with V2Client(server.url, oauth()) as user:
        assert len(user.get(f"users/{me}/tweets", max_results=10).json()["data"]) == 10
        assert len(user.get(f"users/{me}/followers", max_results=20).json()["data"]) == 20
        assert len(user.get(f"users/{me}/following", max_results=12).json()["data"]) == 12
        assert len(user.get(f"users/{other}/tweets", max_results=5).json()["data"]) == 5  # not own
    b = bill(server)
    # the following read by ids() (bearer) was a follow; the same user again, owned, is deduplicated
    assert counts(server) == {"posts": 5, "users": 0, "follows": 1, "owned": 41}
    assert b["kinds"]["owned"]["usd"] == 0.041
    assert (b["token_user_id"], b["app_owner_id"]) == (me, me)


def test_a_token_whose_user_does_not_own_the_app_reads_nothing_owned(server: ServerProcess) -> None:
    _, other = ids(server)
    with V2Client(server.url) as v2:
        handle = v2.get(f"users/{other}/tweets", max_results=5, expansions="author_id"
                        ).json()["includes"]["users"][0]["username"]
    with running(*WORLD, "--app-owner", "@" + handle) as server:
        me, _ = ids(server)
        assert bill(server)["app_owner_id"] == other
        with V2Client(server.url, oauth()) as user:
            assert len(user.get(f"users/{me}/tweets", max_results=10).json()["data"]) == 10
        assert counts(server) == {"posts": 10, "users": 0, "follows": 1, "owned": 0}
    with pytest.raises(RuntimeError):  # an owner the world does not have: the emulator refuses to start
        with running(*WORLD, "--app-owner", "nobody_here"):
            pass


def test_daily_deduplication_same_day_and_next_day(server: ServerProcess) -> None:
    me, _ = ids(server)
    with V2Client(server.url) as v2:
        page = v2.get(f"users/{me}/followers", max_results=10).json()
        before = bill(server)
        again = v2.get(f"users/{me}/followers", max_results=10).json()  # a retry, the same day
        assert again == page
        assert bill(server)["total_micro_usd"] == before["total_micro_usd"]
        assert server.get_json("/_emulator/log")["requests"][-1]["cost_micro_usd"] == 0
        # a user read by username after being read as a follower: another resource, charged
        name = page["data"][0]["username"]
        assert v2.get(f"users/by/username/{name}").status_code == 200
        assert counts(server)["users"] == 1
        # the next UTC day: charged again
        moved = billing(server, {"advance_days": 1}).json()
        assert moved["advanced_days"] == 1 and moved["day"] > before["day"]
        assert v2.get(f"users/{me}/followers", max_results=10).status_code == 200
    assert counts(server)["follows"] == 1 + 10 + 10


def test_not_billed_v1_failures_empty_answers_and_includes(server: ServerProcess) -> None:
    me, other = ids(server)
    start = bill(server)["total_micro_usd"]
    v1 = Client(server.url)
    try:
        assert len(v1.get("statuses/user_timeline", screen_name="alice", count=50).json()) == 50
        assert v1.get("followers/list", screen_name="alice").status_code == 200
    finally:
        v1.close()
    with V2Client(server.url) as v2:
        newest = v2.get(f"users/{me}/tweets", max_results=5).json()["meta"]["newest_id"]
        spent = bill(server)["total_micro_usd"]
        assert v2.get(f"users/{me}/tweets", since_id=newest).json() == {"meta": {"result_count": 0}}
        assert "errors" in v2.get("users/by/username/nobody_here").json()
        assert v2.get(f"users/{me}/tweets", max_results=500).status_code == 400
        assert v2.get("users/nothing/here").status_code == 404
        assert bill(server)["total_micro_usd"] == spent == start + 25_000
        # includes (authors, referenced posts) are counted apart, not billed
        page = v2.get(f"users/{other}/tweets", max_results=10, **FULL).json()
    b = bill(server)
    assert b["kinds"]["posts"]["count"] == 15
    included_users = {u["id"] for u in page["includes"]["users"]}
    # a post both in data and in includes (a reply to a post of the same page) is charged once
    included_tweets = {t["id"] for t in page["includes"].get("tweets", [])} - {t["id"] for t in page["data"]}
    assert included_users
    # the users and posts of includes, each once (none of them charged before today)
    assert (b["includes"]["users"], b["includes"]["posts"]) == (len(included_users), len(included_tweets))
    assert b["includes"]["usd"] == pytest.approx(0.01 * len(included_users) + 0.005 * len(included_tweets))
    assert b["includes"]["upper_bound_usd"] == pytest.approx(b["total_usd"] + b["includes"]["usd"])


def test_credits_refuse_an_answer_that_costs_more_than_what_is_left() -> None:
    with running(*WORLD, "--credits", "0.06") as server:
        me = server.get_json("/_emulator/world")["user_id"]
        with V2Client(server.url) as v2:
            first = v2.get(f"users/{me}/tweets", max_results=10)  # $0.05
            assert first.status_code == 200
            assert server.get_json("/_emulator/usage")["credits"] == 0.01
            refused = v2.get(f"users/{me}/tweets", max_results=10,
                             pagination_token=first.json()["meta"]["next_token"])  # $0.05 > $0.01
            assert refused.status_code == 402
            assert refused.headers["content-type"] == "application/problem+json"
            assert refused.json() == CREDITS
            assert int(refused.headers["x-rate-limit-remaining"]) > 0
            # what costs nothing or no more than the balance is served: the same page again
            # (deduplicated), an empty page, one user ($0.01)
            assert v2.get(f"users/{me}/tweets", max_results=10).status_code == 200
            newest = first.json()["meta"]["newest_id"]
            assert v2.get(f"users/{me}/tweets", since_id=newest).status_code == 200
            assert v2.get("users/by/username/alice").status_code == 200
            usage = server.get_json("/_emulator/usage")
            assert (usage["credits"], usage["refused"]) == (0.0, 1)
            assert v2.get(f"users/{me}/followers", max_results=1).status_code == 402
            # credits bought: served again
            assert requests.post(f"{server.url}/_emulator/usage", json={"credits": "1"},
                                 timeout=30).json()["credits"] == 1.0
            assert v2.get(f"users/{me}/followers", max_results=1).status_code == 200
        assert bill(server)["total_micro_usd"] == 50_000 + 10_000 + 10_000
        log = server.get_json("/_emulator/log")["requests"]
        assert [e["status"] for e in log] == [200, 402, 200, 200, 200, 402, 200]


def test_users_me_user_context_only() -> None:
    with running(*WORLD, "--quotas", "on") as server:
        me = server.get_json("/_emulator/world")["user_id"]
        with V2Client(server.url, oauth()) as user:
            r = user.get("users/me", **{"user.fields": "public_metrics,created_at"})
            assert r.status_code == 200
            data = r.json()["data"]
            assert (data["id"], data["username"]) == (me, "alice")
            assert set(data) == {"id", "name", "username", "public_metrics", "created_at"}
            assert r.headers["x-rate-limit-limit"] == "75"
            assert user.get("users/me", foo="1").status_code == 400
        assert counts(server)["users"] == 1
        with V2Client(server.url) as app:
            r = app.get("users/me")
        assert r.status_code == 403 and r.headers["content-type"] == "application/problem+json"
        assert r.json() == {
            "title": "Unsupported Authentication",
            "detail": "Authenticating with OAuth 2.0 Application-Only is forbidden for this endpoint.  "
                      "Supported authentication types are [OAuth 1.0a User Context, OAuth 2.0 User Context].",
            "type": UNSUPPORTED, "status": 403}


def test_usage_tweets_app_only_shows_the_posts_read_per_day() -> None:
    with running(*WORLD, "--quotas", "on", "--usage-cap", "5000") as server:
        me = server.get_json("/_emulator/world")["user_id"]
        with V2Client(server.url) as app:
            app.get(f"users/{me}/tweets", max_results=20)
            app.get(f"users/{me}/tweets", max_results=20)  # deduplicated in the bill, not in usage
            r = app.get("usage/tweets")
            assert r.status_code == 200 and r.headers["x-rate-limit-limit"] == "50"
            data = r.json()["data"]
            assert set(data) == {"cap_reset_day", "project_cap", "project_id", "project_usage"}
            assert (data["project_cap"], data["project_usage"]) == (5000, 40)
            assert 1 <= data["cap_reset_day"] <= 28 and data["project_id"].isdigit()
            billing(server, {"advance_days": 1})
            app.get(f"users/{me}/tweets", max_results=5)
            daily = app.get("usage/tweets", days=3,
                            **{"usage.fields": "daily_project_usage,daily_client_app_usage"}).json()["data"]
            series = daily["daily_project_usage"]["usage"]
            assert [d["usage"] for d in series] == [0, 40, 5]
            assert all(d["date"].endswith("T00:00:00.000Z") for d in series)
            assert daily["daily_client_app_usage"][0]["usage"] == series
            assert app.get("usage/tweets", days=91).status_code == 400
            assert app.get("usage/tweets", **{"usage.fields": "nope"}).status_code == 400
        assert bill(server)["total_micro_usd"] == 20 * 5_000 + 5 * 5_000  # usage/tweets costs nothing
        with V2Client(server.url, oauth()) as user:
            r = user.get("usage/tweets")
        assert r.status_code == 403 and r.json()["type"] == UNSUPPORTED
        assert "OAuth 1.0a User Context is forbidden" in r.json()["detail"]
        # without a cap: X's pay-per-use monthly cap
        requests.post(f"{server.url}/_emulator/usage", json={"cap": None}, timeout=30)
        with V2Client(server.url) as app:
            assert app.get("usage/tweets").json()["data"]["project_cap"] == 3_000_000


def test_billing_control_prices_reset_and_bad_bodies(server: ServerProcess) -> None:
    me, _ = ids(server)
    assert billing(server, {"reset": True}).json()["total_usd"] == 0
    r = billing(server, {"prices": {"follows": 1, "posts": "0.5"}})
    assert r.status_code == 200 and r.json()["kinds"]["follows"]["price_usd"] == 1.0
    with V2Client(server.url) as v2:
        v2.get(f"users/{me}/followers", max_results=3)
        v2.get(f"users/{me}/tweets", max_results=5)
    b = bill(server)
    assert (b["kinds"]["follows"]["usd"], b["kinds"]["posts"]["usd"], b["total_cents"]) == (3.0, 2.5, "5.50")
    for bad in ({"prices": {"likes": 1}}, {"prices": {"posts": -1}}, {"prices": {"posts": "0.0000001"}},
                {"advance_days": -1}, {"advance_days": "1"}, {"reset": 1}, {"nope": True}, [1]):
        r = billing(server, bad)
        assert r.status_code == 400 and "error" in r.json(), bad
    assert bill(server)["kinds"]["posts"]["price_usd"] == 0.5
    reset = billing(server, {"reset": True}).json()
    assert (reset["total_micro_usd"], reset["resources_today"]) == (0, 0)
    with V2Client(server.url) as v2:  # the day's memory is gone too: charged again
        v2.get(f"users/{me}/tweets", max_results=5)
    assert bill(server)["kinds"]["posts"]["count"] == 5
    assert billing(server, {"forget_day": True}).json()["kinds"]["posts"]["count"] == 5


def test_recorded_dataset_users_me_and_owned_reads() -> None:
    with running("--dataset", "recorded") as server:
        with V2Client(server.url, oauth()) as user:
            me = user.get("users/me").json()["data"]
            assert (me["id"], me["username"]) == ("783214", "Twitter")
            followers = user.get("users/783214/followers").json()["data"]
        with V2Client(server.url) as app:
            assert len(app.get("users/783214/tweets").json()["data"]) > 0
        b = bill(server)
        # the recorded user is the tokens' user and the app owner: its followers are Owned Reads
        assert counts(server) == {"posts": b["kinds"]["posts"]["count"], "users": 1, "follows": 0,
                                  "owned": len(followers)}
        assert b["kinds"]["posts"]["count"] > 0 and b["token_user_id"] == b["app_owner_id"] == "783214"
