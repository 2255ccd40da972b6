"""The progress line of a real v2 crawl says what the answers so far cost: the amount grows with
the import and never passes what the end summary reports, which is the emulator's bill."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

from tests.support.crawl import run_crawl
from tests.support.servers import ServerProcess

WORLD = ("--handle", "alice", "--followers", "400", "--followings", "10", "--tweets", "1500",
         "--following-tweets", "5", "--latency", "0.25", "--quotas", "off", "--seed", "9")
PROGRESS = re.compile(r"INFO: followers [\d,]+/[\d,]+ · followings .* · cost \$([\d,]+\.\d\d)")
SUMMARY = re.compile(r"^\s+cost\s+\$([\d,]+\.\d\d): ", re.M)


def dollars(text: str) -> Decimal:
    return Decimal(text.replace(",", ""))


def test_the_progress_line_shows_the_cost_so_far(tmp_path: Path) -> None:
    with ServerProcess("twitter_emulator", *WORLD) as server:
        result = run_crawl(server.url, "alice", settings={
            "TWITTER_API_VERSION": "2", "TWITTER_PROGRESS_INTERVAL": "0.5",
            "POD_URL": f"sqlite:///{tmp_path / 'pod.sqlite3'}",
            "TWITTER_COST_LEDGER_DIR": str(tmp_path / "ledger")})
        assert result.returncode == 0, result.stderr[-3000:]
        billed = Decimal(str(server.get_json("/_emulator/bill")["total_usd"]))
    seen = [dollars(m.group(1)) for m in PROGRESS.finditer(result.log)]
    assert len(seen) >= 3, result.log[-3000:]
    assert seen == sorted(seen), seen
    assert seen[-1] > 0
    summary = SUMMARY.search(result.stdout + result.log)
    assert summary is not None, result.log[-3000:]
    total = dollars(summary.group(1))
    assert total == billed.quantize(Decimal("0.01"))
    assert seen[-1] <= total
    # Lines before the end show less than the total: the amount follows the import.
    assert seen[0] < total
