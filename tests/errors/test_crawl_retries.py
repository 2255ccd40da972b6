"""One endpoint that always fails, the rest of the API healthy (a fault proxy in front of the
emulator): the failing request is retried a bounded number of times with backoff, then given up
with a logged reason, and the rest of the crawl goes on meanwhile and after; the crawl finishes.

Over API v2 only the answers the crawl must read differently run: a 503 problem JSON, a 502
HTML page, an unreadable body. A dropped connection, a timeout or a body cut short never reaches
the API module: Scrapy's retry and our backoff handle them alike for both versions, so those
cases run over v1.1 only.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlencode

import pytest

from tests.support.apicheck import lines, stats, store_items
from tests.support.apiversion import V1, V2, ApiVersion
from tests.support.crawl import run_crawl
from tests.support.servers import ServerProcess

WORLD = ("--followers", "450", "--followings", "30", "--tweets", "900", "--following-tweets", "4",
         "--protected-followings", "1", "--suspended-followings", "1", "--seed", "2",
         "--latency", "0.05")
RETRY_TIMES = 2

CASES = {
    # name: (proxy action, extra settings, Scrapy's give-up reason, our give-up line)
    "503": ("503", {}, "503 Service Unavailable", "Gave up on {url}: HTTP 503, codes [130]: Over capacity"),
    "502_html": ("502", {}, "502 Bad Gateway", "Gave up on {url}: HTTP 502, codes []"),
    "dropped": ("drop", {}, "Connection was closed cleanly", None),
    "timeout": ("hang", {"DOWNLOAD_TIMEOUT": "1"}, "took longer than 1.0 seconds", None),
    # Scrapy's reason is empty here; its WARNING "Got data loss in <url>" names it
    "truncated": ("truncate", {}, "", None),
    # a broken body handed to the spider is an unreadable answer: retried, then counted
    "truncated_accepted": ("truncate", {"DOWNLOAD_FAIL_ON_DATALOSS": "False"}, None,
                           "Gave up on {url}: the body is not valid JSON"),
}
#: Our give-up line where v2's answer reads differently: its 503 is a problem JSON, no code.
V2_LINES = {"503": "Gave up on {url}: HTTP 503, codes []: Service Unavailable"}
V2_USER_FIELDS = ("created_at,description,entities,id,location,name,profile_image_url,protected,"
                  "public_metrics,url,username,verified")


def followings_url(api: ApiVersion, base: str, user_id: str) -> str:
    """The first followings page the crawl asks for."""
    if api.v2:
        query = urlencode({"max_results": 1000, "user.fields": V2_USER_FIELDS})
        return f"{base}/2/users/{user_id}/following?{query}"
    return (f"{base}/1.1/friends/list.json?user_id={user_id}&count=200&cursor=-1&skip_status=true"
            "&include_user_entities=true")


@pytest.mark.parametrize(
    ("case", "api"),
    [pytest.param(case, V1, id=f"{case}-v1.1") for case in CASES]
    + [pytest.param(case, V2, id=f"{case}-v2") for case in ("503", "502_html", "truncated_accepted")],
)
def test_an_endpoint_that_keeps_failing_is_retried_then_given_up_while_the_rest_goes_on(
    tmp_path: Path, case: str, api: ApiVersion
) -> None:
    action, settings, retry_reason, our_line = CASES[case]
    if api.v2:
        our_line = V2_LINES.get(case, our_line)
    pod = tmp_path / "pod.sqlite3"
    with ServerProcess("twitter_emulator", *WORLD) as emulator, \
            ServerProcess("tests.support.faultproxy", "--upstream", emulator.url,
                          "--rule", f"{api.followings}={action}") as proxy:
        world = emulator.get_json("/_emulator/world")
        result = run_crawl(proxy.url, "alice", settings={
            "POD_URL": f"sqlite:///{pod}", "TWITTER_CONTACTS_STRATEGY": "list",
            "RETRY_TIMES": str(RETRY_TIMES), "TWITTER_RETRY_BACKOFF_BASE": "0.3",
            "TWITTER_RETRY_BACKOFF_JITTER": "0", **settings, **api.settings})
        log = proxy.get_json("/_proxy/log")["requests"]
    assert result.returncode == 0, result.stderr[-3000:]
    dump = stats(result.stderr)
    assert dump["finish_reason"] == "finished"

    # bounded: the first attempt and RETRY_TIMES retries, each after its backoff, then no more
    failing = [i for i, e in enumerate(log) if e["endpoint"] == api.followings]
    assert len(failing) == 1 + RETRY_TIMES
    assert dump["twitter/retry/backoff/count"] == RETRY_TIMES
    assert dump["twitter/retry/backoff/seconds"] == pytest.approx(0.3 + 0.6)
    url = followings_url(api, proxy.url, world["user_id"])

    # given up with a logged reason
    errors = lines(result.stderr, "ERROR")
    if retry_reason:
        prefix = f"Gave up retrying <GET {url}> (failed {1 + RETRY_TIMES} times): "
        assert any(e.startswith(prefix) and retry_reason in e for e in errors), errors
        assert dump["retry/max_reached"] == 1
    if our_line:
        assert any(e.startswith(our_line.format(url=url)) for e in errors), errors
    if case == "truncated":
        # (Scrapy says it once per crawl)
        assert any(m.startswith(f"Got data loss in {url}.") for m in lines(result.stderr, "WARNING"))
    if case == "truncated_accepted":
        assert dump["twitter/errors/malformed"] == 1 + RETRY_TIMES
        assert dump["twitter/errors/malformed_gave_up"] == 1
        assert "unreadable answers" in result.stderr  # the summary counts it

    # the rest went on: other endpoints answered between the first failure and the give-up,
    # and after it; every follower imported, the own timeline complete
    others = [e for e in log if e["endpoint"] != api.followings and e["status"] == 200]
    first, last = log[failing[0]]["time"], log[failing[-1]]["time"]
    assert any(first < e["time"] < last for e in others), "nothing else was served meanwhile"
    items, edges = store_items(pod)
    assert sum(e[3] == "follower" for e in edges) == world["counts"]["followers"]
    assert sum(e[3] == "following" for e in edges) == 0
    assert sum(k[0] == "Tweet" for k in items) >= world["counts"]["tweets"]
