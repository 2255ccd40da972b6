"""Runs the archive import as a user does (``scrapy crawl archive``) and writes archives."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.support.crawl import SCRAPY, CrawlResult, crawl_env
from tests.support.servers import ROOT
from twitter_crawler.items import unpack


def write_archive(out: Path, *args: str) -> str:
    """``python -m twitter_emulator.archive --out OUT ARGS``: its summary line."""
    proc = subprocess.run(  # noqa: S603 (our own command line)
        [sys.executable, "-m", "twitter_emulator.archive", "--out", str(out), *args],
        capture_output=True, text=True, cwd=ROOT, check=True, timeout=600)
    return proc.stdout


def run_archive(path: Path | str, store: Path | None, *args: str, env: dict[str, str] | None = None,
                timeout: float = 600) -> CrawlResult:
    """``scrapy crawl archive -a path=PATH`` into the SQLite file ``store`` (else the store the
    environment ``env`` names: a Pod, with its keys off the command line)."""
    settings = {"POD_URL": f"sqlite:///{store}"} if store is not None else {}
    cmd = [sys.executable, "-c", SCRAPY, "crawl", "archive", "-a", f"path={path}", *args]
    for key, value in settings.items():
        cmd += ["-s", f"{key}={value}"]
    proc = subprocess.run(  # noqa: S603 (our own command line)
        cmd, capture_output=True, text=True, cwd=ROOT, env=crawl_env(env, settings),
        timeout=timeout, check=False)
    return CrawlResult(proc.returncode, proc.stdout, proc.stderr)


class MarkTweets:
    """An item pipeline of a user's: sets every Tweet's ``lang`` to ``marked``."""

    def process_item(self, item: Any) -> Any:
        for inner in unpack(item):
            if isinstance(inner, dict) and inner.get("type") == "Tweet" and "message" in inner:
                inner["lang"] = "marked"
        return item
