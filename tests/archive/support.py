"""Runs the archive import as a user does (``scrapy crawl archive``) and writes archives."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.support.crawl import SCRAPY, CrawlResult, crawl_env
from tests.support.servers import ROOT


def write_archive(out: Path, *args: str) -> str:
    """``python -m twitter_emulator.archive --out OUT ARGS``: its summary line."""
    proc = subprocess.run(  # noqa: S603 (our own command line)
        [sys.executable, "-m", "twitter_emulator.archive", "--out", str(out), *args],
        capture_output=True, text=True, cwd=ROOT, check=True, timeout=600)
    return proc.stdout


def run_archive(path: Path | str, store: Path, *args: str, timeout: float = 600) -> CrawlResult:
    settings = {"POD_URL": f"sqlite:///{store}"}
    cmd = [sys.executable, "-c", SCRAPY, "crawl", "archive", "-a", f"path={path}",
           "-s", f"POD_URL=sqlite:///{store}", *args]
    proc = subprocess.run(  # noqa: S603 (our own command line)
        cmd, capture_output=True, text=True, cwd=ROOT, env=crawl_env(None, settings),
        timeout=timeout, check=False)
    return CrawlResult(proc.returncode, proc.stdout, proc.stderr)
