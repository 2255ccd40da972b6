"""Runs ``scrapy crawl twitter`` as a real subprocess, as a user would, and reads what it made."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support.servers import ROOT
from twitter_emulator.credentials import CRAWL_ENV as EMULATOR_CREDENTIALS

#: The settings that are credentials: a test that sets any of them chooses the crawl's credentials
#: itself (none, a bearer token alone, wrong ones), and the emulator's are left out.
CREDENTIAL_SETTINGS = (*EMULATOR_CREDENTIALS, "TWITTER_BEARER_TOKEN")


@dataclass
class CrawlResult:
    returncode: int
    stdout: str
    stderr: str

    @property
    def log(self) -> str:
        return self.stderr


def crawl_command(api_url: str, handle: str | None, *args: str,
                  settings: dict[str, str] | None = None) -> list[str]:
    """``handle=None``: the accounts are in ``args`` (``-a handles=...``)."""
    cmd = [sys.executable, "-c", SCRAPY, "crawl", "twitter", "-s", f"TWITTER_API_URL={api_url}"]
    if handle is not None:
        cmd += ["-a", f"handle={handle}"]
    for key, value in (settings or {}).items():
        cmd += ["-s", f"{key}={value}"]
    return cmd + list(args)


#: ``scrapy`` as a user runs it, except that a deprecated API is an error, as in the tests.
SCRAPY = (
    "import sys, warnings\n"
    "from scrapy.exceptions import ScrapyDeprecationWarning\n"
    "warnings.simplefilter('error', DeprecationWarning)\n"
    "warnings.simplefilter('error', ScrapyDeprecationWarning)\n"
    "from scrapy.cmdline import execute\n"
    "sys.argv[0] = 'scrapy'\n"
    "execute()\n"
)


def crawl_env(extra: dict[str, str] | None = None, settings: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a crawl: none of the user's TWITTER_*/POD_* variables, the emulator's
    credentials (the crawler knows none: they are passed as a user passes theirs) unless ``extra``
    or the ``-s`` ``settings`` name any credential, then ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TWITTER_", "POD_"))}
    # Media downloads are tested by tests/media, against a truth that has the files; elsewhere
    # they would only add File items the emulator's truth does not list (-s still wins).
    env["TWITTER_MEDIA"] = ""
    chosen = {*(extra or {}), *(settings or {})}
    if not chosen.intersection(CREDENTIAL_SETTINGS):
        env.update(EMULATOR_CREDENTIALS)
    env.update(extra or {})
    return env


def run_crawl(
    api_url: str,
    handle: str | None,
    *args: str,
    settings: dict[str, str] | None = None,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float = 300,
) -> CrawlResult:
    proc = subprocess.run(  # noqa: S603 (our own command line)
        crawl_command(api_url, handle, *args, settings=settings),
        capture_output=True, text=True, cwd=cwd or ROOT, env=crawl_env(env, settings), timeout=timeout,
        check=False,
    )
    return CrawlResult(proc.returncode, proc.stdout, proc.stderr)


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def key_of(item: dict[str, Any]) -> tuple[str, ...]:
    kind = item["type"]
    if kind == "Edge":
        s, t = item["source"], item["target"]
        return ("Edge", s["type"], s.get("externalId") or s.get("url"), item["name"],
                t["type"], t.get("externalId") or t.get("url"))
    if kind == "Website":
        return ("Website", item["url"])
    return (kind, item["externalId"])


def merged(items: list[dict[str, Any]]) -> dict[tuple[str, ...], dict[str, Any]]:
    """Items as upserts: later properties override earlier ones, per key."""
    out: dict[tuple[str, ...], dict[str, Any]] = {}
    for item in items:
        out.setdefault(key_of(item), {}).update(item)
    return out


def sqlite_items(path: Path) -> list[tuple[Any, ...]]:
    with sqlite3.connect(path) as db:
        return db.execute("SELECT * FROM items").fetchall()
