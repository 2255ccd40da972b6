"""Reading the emulator's request log (``GET /_emulator/log``): counts, concurrency, waits.

The log has the arrival time of every /1.1 request. The emulator holds every answer that passed
the quota check for exactly ``--latency`` seconds before sending it, so request *i* is in flight
at least during ``[t_i, t_i + latency]``; two such intervals that overlap prove two requests
were in flight at once. (A 429 is answered at once, without the latency.)
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any


def fetch(server: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    since = 0
    while True:
        page = server.get_json(f"/_emulator/log?since={since}")
        entries = page["requests"]
        if not entries:
            break
        out += entries
        since = entries[-1]["seq"]
        if since >= page["last_seq"]:
            break
    return sorted(out, key=lambda e: e["seq"])


@dataclass
class Gap:
    after: dict[str, Any]  # the request before the gap
    before: dict[str, Any]  # the request after it
    seconds: float
    window_started: float  # seconds from the start of that endpoint's window to the next request


@dataclass
class LogFacts:
    requests: int
    by_endpoint: dict[str, int]
    status: dict[int, int]
    rate_limited: int  # 429 answers
    max_in_flight: int
    overlapping: int  # requests that arrived while an earlier one was still held
    first: float
    last: float
    long_gaps: list[Gap]

    @property
    def span(self) -> float:
        return self.last - self.first


def analyse(entries: list[dict[str, Any]], latency: float, window: float) -> LogFacts:
    entries = [e for e in entries if e.get("endpoint")]
    times = [e["time"] for e in entries]
    # Concurrency: sweep over [t, t + latency] of every answer that waited the latency.
    events: list[tuple[float, int]] = []
    for e in entries:
        if e.get("status") != 429 and latency > 0:
            events += [(e["time"], 1), (e["time"] + latency, -1)]
    events.sort(key=lambda x: (x[0], x[1]))  # an end before a start at the same instant
    in_flight = peak = 0
    for _, d in events:
        in_flight += d
        peak = max(peak, in_flight)
    overlapping = 0
    held_until = float("-inf")
    for e in entries:
        if e["time"] < held_until:
            overlapping += 1
        if e.get("status") != 429:
            held_until = max(held_until, e["time"] + latency)
    # Long gaps: the client waited; say when the endpoint's window had started.
    window_start: dict[str, float] = {}
    gaps: list[Gap] = []
    for prev, cur in zip(entries, entries[1:], strict=False):
        ep = cur["endpoint"]
        start = window_start.get(ep)
        if start is None or cur["time"] >= start + window:
            window_start[ep] = cur["time"]
        dt = cur["time"] - prev["time"]
        if dt > window / 2:
            gaps.append(Gap(prev, cur, dt, cur["time"] - (start if start is not None else cur["time"])))
    return LogFacts(
        requests=len(entries),
        by_endpoint=dict(Counter(e["endpoint"] for e in entries)),
        status=dict(Counter(e.get("status") for e in entries)),
        rate_limited=sum(1 for e in entries if e.get("status") == 429),
        max_in_flight=peak,
        overlapping=overlapping,
        first=min(times) if times else 0.0,
        last=max(times) if times else 0.0,
        long_gaps=gaps,
    )
