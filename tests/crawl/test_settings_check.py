"""Every documented setting is checked at start-up: an impossible value is one line naming the
setting, its value (never a secret's) and what is allowed, exit status 2, no traceback, and not
one request to the API.

The settings come from the tables of docs/settings.md, so a newly documented setting without a
bad example here fails :func:`test_every_documented_setting_has_a_bad_example`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from scrapy.settings import SETTINGS_PRIORITIES, Settings

from tests.support.crawl import CrawlResult, run_crawl
from tests.support.servers import ROOT, ServerProcess
from twitter_crawler.addon import apply_defaults
from twitter_crawler.settings import defaults
from twitter_crawler.settings.check import (
    RULES,
    SCRAPY_SETTINGS,
    BadSetting,
    check_settings,
    check_value,
)

DOCS = ROOT / "docs" / "settings.md"
#: In every secret's bad value: it must never be printed.
MARK = "Zq7-s3cr3t-mark"

#: An impossible value of every documented setting; the problem statement of issue 14 first.
BAD: dict[str, tuple[str, ...]] = {
    "POD_BATCH_SIZE": ("0", "many"),
    "POD_ARCHIVE_BATCH_SIZE": ("0",),
    "TWITTER_RATELIMIT_MARGIN": ("-5",),
    "TWITTER_RATELIMIT_MAX_WAIT": ("0",),
    "TWITTER_MEDIA": ("photos,holograms",),
    "TWITTER_MEDIA_MAX_BYTES": ("-1",),
    "TWITTER_DEDUPE_WINDOW": ("-3",),
    "TWITTER_API_VERSION": ("3",),
    "TWITTER_CONTACTS_STRATEGY": ("fastest",),
    "TWITTER_CONTACTS_FULL_REFRESH": ("-1", "weekly"),
    # the rest, in the order of docs/settings.md
    "TWITTER_API_URL": ("api.twitter.com", "http://127.0.0.1:port"),
    "TWITTER_BEARER_TOKEN": (f"AAAA {MARK}",),
    "TWITTER_CONSUMER_KEY": ("consumer-key\n",),
    "TWITTER_CONSUMER_SECRET": (f"{MARK} ",),
    "TWITTER_ACCESS_TOKEN": (f"1-{MARK}\t",),
    "TWITTER_ACCESS_SECRET": (f"{MARK}\x7f",),
    "TWITTER_COST_LEDGER_DIR": ("ledger\n",),
    "TWITTER_COST_OWNED_READS": ("maybe",),
    "TWITTER_MAX_COST": ("0", "ten dollars", "0.0000001"),
    "TWITTER_PRICES": ("tweets=0.005", "posts=-1"),
    "TWITTER_RATELIMIT_ENABLED": ("yes",),
    "TWITTER_RATELIMIT_PROBE_LEASE": ("0",),
    "TWITTER_QUEUE_REDIS_URL": ("localhost:6379", "redis://127.0.0.1:port"),
    "TWITTER_QUEUE_NAME": ("", "my queue", "x" * 65),
    "TWITTER_QUEUE_RETRIES": ("-1", "three"),
    "TWITTER_QUEUE_JOBDIR": ("", "crawls\n"),
    "TWITTER_RATELIMIT_REDIS_URL": ("localhost:6379", "redis://127.0.0.1:port", "redis://127.0.0.1/zero"),
    "TWITTER_RETRY_BACKOFF_BASE": ("-1",),
    "TWITTER_RETRY_BACKOFF_MAX": ("0",),
    "TWITTER_RETRY_BACKOFF_JITTER": ("1.5",),
    "TWITTER_MEDIA_CONCURRENCY": ("0",),
    "TWITTER_MEDIA_RETRY_TIMES": ("two",),
    "TWITTER_MEDIA_TIMEOUT": ("inf",),
    "TWITTER_PROGRESS_INTERVAL": ("-30",),
    "POD_URL": ("ftp://example.org/pod", "sqlite:///"),
    "POD_OWNER_KEY": (MARK,),
    "POD_DATABASE_KEY": ("ab" * 31 + MARK[:2],),
    "POD_AUTH_JSON": (f'["{MARK}"]',),
    "POD_PLUGIN_PROGRESS_INTERVAL": ("0",),
    "POD_BATCH_SECONDS": ("nan",),
    "POD_RETRY_TIMES": ("-1",),
    "POD_RETRY_BACKOFF": ("soon",),
    "RETRY_TIMES": ("5.5",),
    "CONCURRENT_REQUESTS": ("0",),
}


def documented_settings() -> list[str]:
    """The first column of every ``| setting | ...`` table of docs/settings.md."""
    names: list[str] = []
    in_table = False
    for line in DOCS.read_text(encoding="utf-8").splitlines():
        if line.startswith("| setting |"):
            in_table = True
        elif not line.startswith("|"):
            in_table = False
        elif in_table and (found := re.match(r"\| `([A-Z][A-Z0-9_]*)` \|", line)):
            names.append(found.group(1))
    return names


DOCUMENTED = documented_settings()
CASES = [(name, value) for name in DOCUMENTED for value in BAD.get(name, ())]


def test_the_docs_tables_are_read() -> None:
    # A change of the tables' layout must not leave this file checking nothing.
    assert len(DOCUMENTED) >= 30 and "POD_BATCH_SIZE" in DOCUMENTED and "RETRY_TIMES" in DOCUMENTED


@pytest.mark.parametrize("name", DOCUMENTED)
def test_every_documented_setting_has_a_bad_example(name: str) -> None:
    assert name in BAD, f"{name} is documented: add an impossible value of it to BAD"
    assert name in RULES, f"{name} is documented: add its rule to twitter_crawler/settings/check.py"


def test_every_rule_and_every_default_is_documented() -> None:
    project = {n for n in dir(defaults) if n.startswith(("TWITTER_", "POD_"))}
    assert project - set(DOCUMENTED) == set(), "settings of defaults.py missing in docs/settings.md"
    assert set(RULES) - set(DOCUMENTED) == set(), "rules of check.py missing in docs/settings.md"
    assert set(SCRAPY_SETTINGS) <= set(RULES)


# -- real crawls: one process per bad value, several at once ----------------------------------


@dataclass
class Case:
    settings: dict[str, str]
    env: dict[str, str]
    store: Path


def _run(emulator: ServerProcess, case: Case) -> CrawlResult:
    return run_crawl(emulator.url, "alice", settings=case.settings, env=case.env, timeout=60)


@pytest.fixture(scope="module")
def outcomes(
    emulator: ServerProcess, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Any]]:
    """Every case's crawl, run three at a time (each about half a second of start-up), and the
    emulator's request log before and after them all."""
    cases: dict[str, Case] = {}
    for name, value in CASES:
        store = tmp_path_factory.mktemp("bad") / "pod.sqlite3"
        settings = {"POD_URL": f"sqlite:///{store}", name: value}
        cases[f"{name}={value!r}"] = Case(settings, {}, store)
    # The same check whatever the source: an environment variable, settings_local.py.
    store = tmp_path_factory.mktemp("env") / "pod.sqlite3"
    cases["env"] = Case({"POD_URL": f"sqlite:///{store}"}, {"POD_BATCH_SIZE": "many"}, store)
    local = tmp_path_factory.mktemp("local")
    (local / "settings_local.py").write_text("TWITTER_DEDUPE_WINDOW = 0\n", encoding="utf-8")
    cases["settings_local"] = Case(
        {"POD_URL": f"sqlite:///{local / 'pod.sqlite3'}"},
        {"TWITTER_CRAWLER_SETTINGS_LOCAL": str(local / "settings_local.py")},
        local / "pod.sqlite3",
    )
    before = emulator.get_json("/_emulator/log")["last_seq"]
    with ThreadPoolExecutor(max_workers=3) as pool:
        results = dict(zip(cases, pool.map(lambda c: _run(emulator, c), cases.values()), strict=True))
    after = emulator.get_json("/_emulator/log")
    yield {"cases": cases, "results": results, "before": before, "after": after}


def _assert_one_line(result: CrawlResult, name: str) -> str:
    assert result.returncode == 2, result.stderr[-2000:]
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr[-2000:]
    assert lines[0].startswith(f"twitter: bad setting: {name}"), lines[0]
    return lines[0]


@pytest.mark.parametrize(("name", "value"), CASES, ids=[f"{n}={v!r}" for n, v in CASES])
def test_bad_value_is_one_line_exit_2_and_no_request(
    outcomes: dict[str, Any], name: str, value: str
) -> None:
    key = f"{name}={value!r}"
    result = outcomes["results"][key]
    line = _assert_one_line(result, name)
    if name in defaults.SECRET_SETTINGS:
        assert f"{name} (value not shown: it is a secret): " in line
        assert value not in result.stderr and MARK not in result.stderr
    else:
        assert line.startswith(f"twitter: bad setting: {name}={value!r}: "), line
    assert "must be" in line  # what is allowed
    assert not outcomes["cases"][key].store.exists()


def test_the_problem_statements_lines(outcomes: dict[str, Any]) -> None:
    line = {k: r.stderr.strip() for k, r in outcomes["results"].items()}
    assert line["POD_BATCH_SIZE='many'"] == (
        "twitter: bad setting: POD_BATCH_SIZE='many': must be a whole number of 1 or more"
    )
    assert line["TWITTER_API_VERSION='3'"] == (
        "twitter: bad setting: TWITTER_API_VERSION='3': must be 1.1 or 2"
    )
    assert line["TWITTER_MEDIA='photos,holograms'"] == (
        "twitter: bad setting: TWITTER_MEDIA='photos,holograms': must be a comma list of photos, "
        "avatars, videos, or empty for no media; holograms is not one of them"
    )
    assert line["TWITTER_CONTACTS_STRATEGY='fastest'"] == (
        "twitter: bad setting: TWITTER_CONTACTS_STRATEGY='fastest': must be one of auto, list, ids"
    )


def test_from_the_environment_and_settings_local_too(outcomes: dict[str, Any]) -> None:
    line = _assert_one_line(outcomes["results"]["env"], "POD_BATCH_SIZE")
    assert line == "twitter: bad setting: POD_BATCH_SIZE='many': must be a whole number of 1 or more"
    line = _assert_one_line(outcomes["results"]["settings_local"], "TWITTER_DEDUPE_WINDOW")
    assert line == "twitter: bad setting: TWITTER_DEDUPE_WINDOW=0: must be a whole number of 1 or more"


def test_no_case_sent_a_request(outcomes: dict[str, Any]) -> None:
    after = outcomes["after"]
    assert after["last_seq"] == outcomes["before"], after["requests"][-5:]


# -- the checker itself --------------------------------------------------------------------------


def project_settings() -> Settings:
    # The project's settings module and the add-on's defaults, as the crawl reads them, without
    # this machine's TWITTER_*/POD_* environment variables or settings_local.py.
    settings = Settings()
    settings.setmodule("twitter_crawler.settings", priority="project")
    apply_defaults(settings)
    return settings


def test_the_defaults_are_good_and_stay_as_they_are() -> None:
    settings = project_settings()
    before = {name: settings[name] for name in RULES}
    check_settings(settings)
    assert {name: settings[name] for name in RULES} == before


GOOD: list[tuple[str, Any, Any]] = [
    # (setting, value as given, value the components read)
    ("TWITTER_API_URL", "http://127.0.0.1:8080", "http://127.0.0.1:8080"),
    ("TWITTER_API_URL", "https://proxy.example/twitter/", "https://proxy.example/twitter/"),
    ("TWITTER_API_VERSION", "2", "2"),
    ("TWITTER_API_VERSION", 2, "2"),
    ("TWITTER_API_VERSION", "2.0", "2"),
    ("TWITTER_API_VERSION", 1.1, "1.1"),
    ("TWITTER_API_VERSION", " 1.1 ", "1.1"),
    ("TWITTER_BEARER_TOKEN", "AAAAAAAAAAAAAAAAAAAAAMLheAAAAAAA0%2BuSeid%2BULvsea4JtiGRiSDSJSI%3DEUifiRBkKG5E2XzMDjRfl76ZC9Ub0wnz4XsNiRVBChTYbJcE3F", None),
    ("TWITTER_BEARER_TOKEN", "", ""),
    ("TWITTER_CONSUMER_KEY", "xvz1evFS4wEEPTGEFPHBog", None),
    ("TWITTER_ACCESS_TOKEN", "370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb", None),
    ("TWITTER_CONTACTS_STRATEGY", "ids", "ids"),
    ("TWITTER_CONTACTS_STRATEGY", "List", "list"),
    ("TWITTER_CONTACTS_FULL_REFRESH", "0", 0.0),
    ("TWITTER_CONTACTS_FULL_REFRESH", "0.5", 0.5),
    ("TWITTER_CONTACTS_FULL_REFRESH", 7, 7.0),
    ("TWITTER_RATELIMIT_ENABLED", "False", False),
    ("TWITTER_RATELIMIT_ENABLED", "true", True),
    ("TWITTER_RATELIMIT_ENABLED", "0", False),
    ("TWITTER_RATELIMIT_ENABLED", 1, True),
    ("TWITTER_RATELIMIT_MARGIN", "0", 0.0),
    ("TWITTER_RATELIMIT_MARGIN", "0.5", 0.5),
    ("TWITTER_RATELIMIT_MAX_WAIT", "905", 905.0),
    ("TWITTER_RETRY_BACKOFF_BASE", "0", 0.0),
    ("TWITTER_RETRY_BACKOFF_MAX", 3, 3.0),
    ("TWITTER_RETRY_BACKOFF_JITTER", "0", 0.0),
    ("TWITTER_RETRY_BACKOFF_JITTER", "1", 1.0),
    ("TWITTER_DEDUPE_WINDOW", "1", 1),
    ("TWITTER_DEDUPE_WINDOW", 200_000.0, 200_000),
    ("TWITTER_MEDIA", "", ""),
    ("TWITTER_MEDIA", "none", ""),
    ("TWITTER_MEDIA", "Videos, photos", "photos,videos"),
    ("TWITTER_MEDIA", ["avatars"], "avatars"),
    ("TWITTER_MEDIA_CONCURRENCY", "1", 1),
    ("TWITTER_MEDIA_MAX_BYTES", "1024", 1024),
    ("TWITTER_MEDIA_RETRY_TIMES", "0", 0),
    ("TWITTER_MEDIA_TIMEOUT", "1.5", 1.5),
    ("TWITTER_PROGRESS_INTERVAL", "0", 0.0),
    ("POD_URL", "sqlite:///pod.sqlite3", None),
    ("POD_URL", "sqlite:////tmp/x/pod.sqlite3", None),
    ("POD_URL", "http://127.0.0.1:3030", None),
    ("POD_URL", "https://pod.example", None),
    ("POD_URL", "postgresql://crawler:pw@db.example:5432/pod", None),
    ("POD_URL", "postgres://db.example/pod?sslmode=require", None),
    ("POD_OWNER_KEY", "0123456789abcdef" * 4, None),
    ("POD_DATABASE_KEY", "", ""),
    ("POD_AUTH_JSON", '{"data": {"nonce": "n", "encryptedPermissions": "p"}}', None),
    ("POD_PLUGIN_PROGRESS_INTERVAL", "0.3", 0.3),
    ("POD_BATCH_SIZE", "1", 1),
    ("POD_BATCH_SECONDS", "0.05", 0.05),
    ("POD_RETRY_TIMES", "0", 0),
    ("POD_RETRY_BACKOFF", "0", 0.0),
    ("RETRY_TIMES", "0", 0),
    ("CONCURRENT_REQUESTS", "1", 1),
]


@pytest.mark.parametrize(("name", "value", "read"), GOOD, ids=[f"{n}={v!r}" for n, v, _ in GOOD])
def test_good_values_are_accepted(name: str, value: Any, read: Any) -> None:
    parsed = check_value(name, value)
    assert parsed == (value if read is None else read)
    assert type(parsed) is type(value if read is None else read)


def test_values_are_written_back_at_their_priority() -> None:
    settings = project_settings()
    settings.setdict({"TWITTER_API_VERSION": "2.0", "POD_BATCH_SIZE": "50"}, priority="cmdline")
    check_settings(settings)
    assert settings["TWITTER_API_VERSION"] == "2"
    assert settings["POD_BATCH_SIZE"] == 50
    # At the priority of -s still: nothing of lower priority can override the checked value.
    assert settings.getpriority("POD_BATCH_SIZE") == SETTINGS_PRIORITIES["cmdline"]
    assert settings.getpriority("TWITTER_API_VERSION") == SETTINGS_PRIORITIES["cmdline"]


@pytest.mark.parametrize(("name", "value"), CASES, ids=[f"{n}={v!r}" for n, v in CASES])
def test_bad_values_raise_bad_setting(name: str, value: str) -> None:
    with pytest.raises(BadSetting) as raised:
        check_value(name, value)
    assert raised.value.name == name
    assert "\n" not in str(raised.value)
    if name in defaults.SECRET_SETTINGS:
        assert MARK not in str(raised.value)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("POD_BATCH_SIZE", True),  # a bool is an int to Python, not a batch size
        ("POD_BATCH_SIZE", 2.5),
        ("TWITTER_RATELIMIT_ENABLED", 2),
        ("TWITTER_RATELIMIT_ENABLED", "on"),
        ("TWITTER_API_VERSION", "1"),
        ("TWITTER_API_URL", "https://user:pw@api.example"),
        ("TWITTER_API_URL", "https://api.example/?x=1"),
        ("TWITTER_CONSUMER_KEY", 12345),
        ("POD_URL", "https://pod.example:3030?owner=1"),
        ("POD_URL", "sqlite://relative.sqlite3"),
        ("POD_URL", "postgresql://crawler:pw@db.example:5432/"),
        ("POD_URL", "postgresql://db.example:port/pod"),
        ("POD_AUTH_JSON", '{"nonce": "n"}'),
        ("POD_AUTH_JSON", "{not json"),
        ("TWITTER_RETRY_BACKOFF_JITTER", "-0.1"),
    ],
)
def test_more_bad_values(name: str, value: Any) -> None:
    with pytest.raises(BadSetting):
        check_value(name, value)


def test_a_url_with_credentials_is_not_shown() -> None:
    with pytest.raises(BadSetting) as raised:
        check_value("POD_URL", "ftp://me:pw@pod.example")
    assert "pw" not in str(raised.value) and "POD_URL (value not shown" in str(raised.value)
    with pytest.raises(BadSetting) as raised:
        check_value("POD_URL", "postgresql://db.example:x/pod?password=hunter2secret")
    assert "hunter2" not in str(raised.value) and "POD_URL (value not shown" in str(raised.value)


def test_a_long_value_is_cut_short() -> None:
    with pytest.raises(BadSetting) as raised:
        check_value("TWITTER_CONTACTS_STRATEGY", "x" * 5000)
    assert len(str(raised.value)) < 200

