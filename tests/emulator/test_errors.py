"""Protected, suspended and missing accounts, unknown endpoints, and the 453 access level."""

from __future__ import annotations

from tests.emulator.conftest import Client, errors_of, running

PROTECTED_BODY = {"request": "/1.1/statuses/user_timeline.json", "error": "Not authorized."}


def test_protected_timeline_is_401_not_authorized(client: Client, world: dict) -> None:
    for name in world["protected"]:
        r = client.get("statuses/user_timeline", screen_name=name, count=5)
        assert r.status_code == 401 and r.json() == PROTECTED_BODY
        assert "x-rate-limit-remaining" in r.headers
        assert client.get("users/show", screen_name=name).status_code == 200


def test_suspended_is_403_code_63(client: Client, world: dict) -> None:
    name = world["suspended"][0]
    for endpoint in ("users/show", "statuses/user_timeline", "followers/list", "friends/ids"):
        r = client.get(endpoint, screen_name=name)
        assert r.status_code == 403, endpoint
        assert r.json() == {"errors": [{"code": 63, "message": "User has been suspended."}]}
    assert client.get("users/lookup", screen_name=name).status_code == 404  # omitted, so no match


def test_missing_is_404_code_50(client: Client, world: dict) -> None:
    for name in world["missing"]:
        for endpoint in ("users/show", "statuses/user_timeline", "followers/ids"):
            r = client.get(endpoint, screen_name=name)
            assert r.status_code == 404
            assert r.json() == {"errors": [{"code": 50, "message": "User not found."}]}
    assert errors_of(client.get("users/show", user_id="12345678901234567")) == [50]


def test_screen_names_are_case_insensitive(client: Client) -> None:
    assert client.get("users/show", screen_name="ALICE").json()["screen_name"] == "alice"


def test_unknown_endpoint_and_wrong_method_are_404_code_34(client: Client) -> None:
    assert errors_of(client.get("statuses/home_timeline")) == [34]
    r = client.post("users/show", screen_name="alice")
    assert (r.status_code, errors_of(r)) == (404, [34])


def test_access_level_453_on_every_endpoint() -> None:
    with running("--followers", "3", "--access-level-453") as server:
        client = Client(server.url)
        for endpoint in ("users/show", "followers/list", "statuses/user_timeline", "application/rate_limit_status"):
            r = client.get(endpoint, screen_name="alice")
            assert r.status_code == 403
            assert r.json()["errors"][0]["code"] == 453
            assert r.json()["errors"][0]["message"].startswith("You currently have access to a subset")
            assert "x-rate-limit-limit" in r.headers
        assert errors_of(client.get("users/show", auth=None)) == [215]  # authentication comes first
        client.close()
