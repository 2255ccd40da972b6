"""/2 error answers over real HTTP: accounts that cannot be read, bad requests, client-forbidden,
faults, and the recorded dataset."""

from __future__ import annotations

from collections import Counter

import requests

from tests.emulator.conftest import oauth, running
from tests.emulator.test_v2_client import UNAUTHORIZED, BearerAuth, V2Client
from tests.support.servers import ServerProcess

PROBLEMS = "https://api.twitter.com/2/problems/"


def test_missing_and_suspended_usernames_are_200_with_errors(emulator: ServerProcess, world: dict) -> None:
    with V2Client(emulator.url) as v2:
        for name in world["missing"]:
            r = v2.get(f"users/by/username/{name}")
            assert r.status_code == 200 and r.json() == {"errors": [{
                "value": name, "detail": f"Could not find user with username: [{name}].",
                "title": "Not Found Error", "resource_type": "user", "parameter": "username",
                "resource_id": name, "type": PROBLEMS + "resource-not-found"}]}
        name = world["suspended"][0]
        r = v2.get(f"users/by/username/{name}")
        assert r.status_code == 200 and r.json() == {"errors": [{
            "parameter": "username", "resource_id": name, "value": name,
            "detail": f"User has been suspended: [{name}].", "title": "Forbidden", "resource_type": "user",
            "type": PROBLEMS + "resource-not-found"}]}
        # protected accounts have a profile; case does not matter
        r = v2.get(f"users/by/username/{world['protected'][0].upper()}", **{"user.fields": "protected"})
        assert r.json()["data"]["protected"] is True


def test_bad_requests_are_400_invalid_request(emulator: ServerProcess, world: dict) -> None:
    with V2Client(emulator.url) as v2:
        cases = [
            ("users/by/username/not a name", {}, "username", "not a name"),
            ("users/by/username/alice", {"user.fields": "id,nickname"}, "user.fields", "nickname"),
            ("users/by/username/alice", {"count": "5"}, "count", "5"),
            (f"users/{world['user_id']}/tweets", {"tweet.fields": "text,sauce"}, "tweet.fields", "sauce"),
            (f"users/{world['user_id']}/tweets", {"expansions": "author"}, "expansions", "author"),
            (f"users/{world['user_id']}/tweets", {"media.fields": "bitrate"}, "media.fields", "bitrate"),
            (f"users/{world['user_id']}/tweets", {"exclude": "quotes"}, "exclude", "quotes"),
            (f"users/{world['user_id']}/followers", {"since_id": "1"}, "since_id", "1"),
        ]
        for path, params, parameter, value in cases:
            r = v2.get(path, **params)
            assert r.status_code == 400, (path, params)
            body = r.json()
            assert body["title"] == "Invalid Request" and body["type"] == PROBLEMS + "invalid-request"
            assert body["detail"] == "One or more parameters to your request was invalid."
            assert body["errors"][0]["parameters"] == {parameter: [value]}
            assert r.headers["content-type"] == "application/problem+json"


def test_unknown_paths_and_methods_are_404(emulator: ServerProcess) -> None:
    with V2Client(emulator.url) as v2:
        for path in ("tweets/search/recent", "users/me/x", "users/1/likes", "usage/posts"):
            r = v2.get(path)
            assert r.status_code == 404 and r.json()["status"] == 404 and "x-rate-limit-reset" in r.headers
        r = v2.session.post(f"{emulator.url}/2/users/by/username/alice", auth=BearerAuth(), timeout=30)
        assert r.status_code == 404
        assert v2.get("users/me/x", auth=None).json() == UNAUTHORIZED  # authentication comes first


def test_client_forbidden_on_every_endpoint() -> None:
    with running("--followers", "3", "--v2-client-forbidden") as server, V2Client(server.url) as v2:
        me = server.get_json("/_emulator/world")["user_id"]
        for path in ("users/by/username/alice", f"users/{me}/followers", f"users/{me}/tweets"):
            for auth in (BearerAuth(), oauth()):
                r = v2.get(path, auth=auth)
                assert r.status_code == 403
                assert r.json()["type"] == PROBLEMS + "client-forbidden"
                assert r.json()["reason"] == "client-not-enrolled" and "x-rate-limit-limit" in r.headers
        assert v2.get("users/by/username/alice", auth=None).status_code == 401
        # v1.1 is not affected
        r = requests.get(f"{server.url}/1.1/users/show.json", params={"screen_name": "alice"}, auth=oauth(),
                         timeout=30)
        assert r.status_code == 200


def test_faults_on_v2_are_reproducible_and_in_v2_shape() -> None:
    args = ("--followers", "5", "--tweets", "60", "--quotas", "off", "--fault-seed", "3",
            "--fault-5xx", "0.3", "--fault-drop", "0.15", "--fault-truncate", "0.15")
    runs = []
    for _ in range(2):
        with running(*args) as server:
            me = server.get_json("/_emulator/world")["user_id"]
            seen: dict[int, str] = {}
            bodies = set()
            for n in range(5, 45):
                try:
                    with V2Client(server.url) as v2:
                        r = v2.session.get(f"{server.url}/2/users/{me}/tweets", params={"max_results": n},
                                           auth=BearerAuth(), headers={"Connection": "close"}, timeout=30)
                        r.json()
                    seen[n] = str(r.status_code)
                    if r.status_code >= 500 and r.status_code != 502:
                        bodies.add((r.status_code, r.json()["title"], r.json()["type"]))
                except (requests.exceptions.JSONDecodeError, requests.exceptions.ChunkedEncodingError):
                    seen[n] = "truncate"
                except requests.exceptions.ConnectionError:
                    seen[n] = "drop"
            log = server.get_json("/_emulator/log")["requests"]
            runs.append(seen)
    assert runs[0] == runs[1]
    kinds = Counter(runs[0].values())
    assert kinds["200"] and kinds["drop"] and kinds["truncate"] and {"500", "503"} & kinds.keys()
    assert bodies <= {(500, "Internal Server Error", "about:blank"), (503, "Service Unavailable", "about:blank")}
    assert {e["fault"] for e in log if e["fault"]} == {"5xx", "drop", "truncate"}
    assert all(e["api"] == "2" and e["endpoint"] == "users/tweets" for e in log)


def test_recorded_dataset_serves_the_v2_recordings() -> None:
    with running("--dataset", "recorded", "--quotas", "off") as server, V2Client(server.url) as v2:
        user = v2.get("users/by/username/twitter", **{"user.fields": "public_metrics"}).json()
        assert user == {"data": {"id": "783214", "name": "Twitter", "username": "Twitter"}}
        followers = v2.get("users/783214/followers").json()
        assert len(followers["data"]) == 100 and followers["meta"]["next_token"] == "5CS0O0C6II61EZZZ"
        assert v2.get("users/783214/followers", pagination_token="5CS0O0C6II61EZZZ").json() == {
            "meta": {"result_count": 0}}
        tweets = v2.get("users/783214/tweets", max_results=5).json()
        assert [t["id"] for t in tweets["data"]] == ["1577730467436138524", "1565318587736285184"]
        assert v2.get("users/by/username/jack").json()["errors"][0]["title"] == "Not Found Error"
        assert v2.get("users/783214/tweets", max_results=3).status_code == 400
