"""Injected faults are a function of (seed, request, attempt), not of arrival order."""

from __future__ import annotations

import requests

from tests.emulator.conftest import Client, oauth, running

FAULTS = ("--fault-5xx", "0.25", "--fault-drop", "0.15", "--fault-truncate", "0.15")


def outcomes(url: str, counts: list[int], attempts: int = 2) -> dict[tuple[int, int], str]:
    """What the client saw for each (count, attempt): status, 'drop' or 'truncate'."""
    client = Client(url)
    seen: dict[tuple[int, int], str] = {}
    for attempt in range(attempts):
        for count in counts:
            try:
                # A fresh connection per request, so no client-side reuse logic blurs the outcome.
                r = client.session.get(f"{url}/1.1/statuses/user_timeline.json", params={"count": count},
                                       auth=oauth(), headers={"Connection": "close"}, timeout=30)
                r.json() if r.status_code == 200 else None
                seen[(count, attempt)] = str(r.status_code)
            except requests.exceptions.JSONDecodeError:
                seen[(count, attempt)] = "truncate"
            except requests.exceptions.ChunkedEncodingError:
                seen[(count, attempt)] = "truncate"
            except requests.exceptions.ConnectionError:
                seen[(count, attempt)] = "drop"
    client.close()
    return seen


def test_faults_are_reproducible_and_order_independent() -> None:
    counts = list(range(1, 41))
    with running("--followers", "5", "--tweets", "60", "--quotas", "off", "--fault-seed", "11", *FAULTS) as one:
        first = outcomes(one.url, counts)
        reader = Client(one.url)
        log = reader.control("log")["requests"]
        reader.close()
    with running("--followers", "5", "--tweets", "60", "--quotas", "off", "--fault-seed", "11", *FAULTS) as two:
        second = outcomes(two.url, counts[::-1])
    with running("--followers", "5", "--tweets", "60", "--quotas", "off", "--fault-seed", "12", *FAULTS) as three:
        other = outcomes(three.url, counts)
    assert first == second
    assert first != other
    kinds = set(first.values())
    assert {"200", "drop", "truncate"} <= kinds and kinds & {"500", "502", "503"}
    # the log names each fault, and the client saw exactly those
    logged = {e["query"]["count"]: e["fault"] for e in log if e["fault"]}
    assert logged and all(e["endpoint"] == "statuses/user_timeline" for e in log)
    faulted_first_attempt = {str(c) for (c, a), v in first.items() if a == 0 and v not in ("200",)}
    logged_first = {e["query"]["count"] for e in log[: len(counts)] if e["fault"]}
    assert logged_first == faulted_first_attempt
    # a retry is a new attempt with its own decision: some requests that failed once succeed
    retried = [first[(c, 1)] for (c, a), v in first.items() if a == 0 and v != "200"]
    assert "200" in retried


def test_latency_and_no_faults_on_control_endpoints() -> None:
    with running("--followers", "3", "--latency", "0.3", "--fault-5xx", "1.0") as server:
        client = Client(server.url)
        assert client.control("world")["handle"] == "alice"  # control endpoints never fault
        r = client.get("users/show", screen_name="alice")
        assert r.status_code in (500, 502, 503) and r.elapsed.total_seconds() >= 0.3
        assert "x-rate-limit-remaining" in r.headers
        client.close()
