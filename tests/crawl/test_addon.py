"""The add-on applies the crawler's settings the Scrapy way: a crawler built with it (and no
project settings) sees every default and component; settings_local.py and the environment win
over the defaults in the documented order, and are read when settings are resolved, never when a
module is imported."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from scrapy.settings import SETTINGS_PRIORITIES, Settings
from scrapy.utils.misc import build_from_crawler
from scrapy.utils.test import get_crawler

from tests.support.servers import ROOT
from twitter_crawler.addon import COMPONENTS, SCRAPY_SETTINGS, Addon, project_defaults, resolve
from twitter_crawler.pipelines.dedupe import DedupePipeline
from twitter_crawler.settings import defaults
from twitter_crawler.settings.check import check_settings


@pytest.fixture
def no_user_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No TWITTER_*/POD_* environment variable and no settings_local.py: the defaults only."""
    for name in list(os.environ):
        if name.startswith(("TWITTER_", "POD_")):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_a_crawler_with_the_addon_sees_every_default(no_user_settings: Path) -> None:
    crawler = get_crawler(settings_dict={"ADDONS": {Addon: 0}})
    wanted = project_defaults()
    assert len(wanted) >= 25 and "POD_URL" in wanted and "TWITTER_API_URL" in wanted
    assert {name: crawler.settings[name] for name in wanted} == wanted
    for name, value in SCRAPY_SETTINGS.items():
        if isinstance(value, dict):
            assert crawler.settings.getdict(name) == value, name
        else:
            assert crawler.settings[name] == value, name
    # A component built from that crawler reads the default, not None.
    assert build_from_crawler(DedupePipeline, crawler).window == defaults.TWITTER_DEDUPE_WINDOW


def _by_path(components: dict[str | type, int | None]) -> dict[str, int | None]:
    # The add-on sets classes; a project's own entries stay import paths.
    return {k if isinstance(k, str) else f"{k.__module__}.{k.__qualname__}": v
            for k, v in components.items()}


def test_a_crawler_with_the_addon_has_every_component(no_user_settings: Path) -> None:
    crawler = get_crawler(settings_dict={"ADDONS": {Addon: 0}})
    for setting, components in COMPONENTS.items():
        assert _by_path(crawler.settings.getdict(setting)) == dict(components), setting


def test_without_the_addon_nothing_is_set(no_user_settings: Path) -> None:
    # What the add-on changes: Scrapy alone knows none of the project's settings.
    assert get_crawler().settings.get("POD_URL") is None


def test_project_settings_win_and_a_component_can_be_switched_off(no_user_settings: Path) -> None:
    crawler = get_crawler(settings_dict={
        "ADDONS": {Addon: 0},
        "POD_BATCH_SIZE": 7,
        "CONCURRENT_REQUESTS": 9,
        "ITEM_PIPELINES": {"twitter_crawler.pipelines.media.MediaPipeline": None},
    })
    assert crawler.settings["POD_BATCH_SIZE"] == 7
    assert crawler.settings["CONCURRENT_REQUESTS"] == 9
    assert _by_path(crawler.settings.getdict("ITEM_PIPELINES")) == {
        "twitter_crawler.pipelines.media.MediaPipeline": None,
        "twitter_crawler.pipelines.dedupe.DedupePipeline": 100,
        "twitter_crawler.pipelines.store.StorePipeline": 300,
    }


def test_the_order_of_the_sources(tmp_path: Path) -> None:
    """Weakest to strongest: defaults, the project module, settings_local.py, the environment,
    -s."""
    local = tmp_path / "settings_local.py"
    local.write_text(
        "POD_BATCH_SIZE = 11\nPOD_RETRY_TIMES = 12\nTWITTER_DEDUPE_WINDOW = 13\n"
        "LOG_LEVEL = 'DEBUG'\nCONCURRENT_ITEMS = 4\n",
        encoding="utf-8",
    )
    environ = {
        "TWITTER_CRAWLER_SETTINGS_LOCAL": str(local),
        "POD_RETRY_TIMES": "22",
        "TWITTER_DEDUPE_WINDOW": "23",
        "TWITTER_PROGRESS_INTERVAL": "24",
        # settings_local.py names it: the environment may override it too
        "CONCURRENT_ITEMS": "5",
        # a Scrapy setting settings_local.py does not name: not read from the environment
        "DOWNLOAD_TIMEOUT": "99",
    }
    settings = Settings()
    settings.setmodule("twitter_crawler.settings", priority="project")
    settings.set("TWITTER_DEDUPE_WINDOW", 33, priority="cmdline")
    resolve(settings, environ)
    assert settings["POD_BATCH_SECONDS"] == defaults.POD_BATCH_SECONDS  # the default
    assert settings["POD_BATCH_SIZE"] == 11  # settings_local.py
    assert settings["LOG_LEVEL"] == "DEBUG"  # settings_local.py over the project module
    assert settings["POD_RETRY_TIMES"] == "22"  # the environment over settings_local.py
    assert settings["TWITTER_PROGRESS_INTERVAL"] == "24"  # the environment over the default
    assert settings["CONCURRENT_ITEMS"] == "5"
    assert settings["DOWNLOAD_TIMEOUT"] == SCRAPY_SETTINGS["DOWNLOAD_TIMEOUT"]
    assert settings["TWITTER_DEDUPE_WINDOW"] == 33  # -s over everything
    assert settings.getpriority("TWITTER_DEDUPE_WINDOW") == SETTINGS_PRIORITIES["cmdline"]


def test_resolving_again_keeps_the_checked_values(tmp_path: Path) -> None:
    # The crawl command resolves and checks, then the crawler process and the crawler resolve
    # again: the parsed values stay.
    environ = {"TWITTER_CRAWLER_SETTINGS_LOCAL": str(tmp_path / "none.py"),
               "POD_BATCH_SIZE": "50", "TWITTER_API_VERSION": "2.0"}
    settings = Settings()
    resolve(settings, environ)
    check_settings(settings)
    resolve(settings, environ)
    assert settings["POD_BATCH_SIZE"] == 50
    assert settings["TWITTER_API_VERSION"] == "2"


MARKER_LOCAL = (
    "import pathlib, os\n"
    "pathlib.Path(os.environ['MARKER']).write_text('ran', encoding='utf-8')\n"
    "POD_URL = 'sqlite:///from-settings-local.sqlite3'\n"
)


def _python(code: str, local: Path, marker: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 (our own command line)
        [sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=ROOT, check=False,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT),
             "SCRAPY_SETTINGS_MODULE": "twitter_crawler.settings",
             "TWITTER_CRAWLER_SETTINGS_LOCAL": str(local), "MARKER": str(marker)},
    )


@pytest.mark.parametrize("module", [
    "twitter_crawler.settings",
    "twitter_crawler.settings.check",
    "twitter_crawler.settings.defaults",
    "twitter_crawler.addon",
])
def test_importing_runs_nothing_of_the_users(tmp_path: Path, module: str) -> None:
    local = tmp_path / "settings_local.py"
    local.write_text(MARKER_LOCAL, encoding="utf-8")
    marker = tmp_path / "marker"
    done = _python(f"import {module}", local, marker)
    assert done.returncode == 0, done.stderr
    assert not marker.exists(), f"importing {module} ran settings_local.py"


def test_scrapy_settings_shows_what_a_crawl_reads(tmp_path: Path) -> None:
    # The same settings_local.py does run when settings are resolved: here by `scrapy settings`.
    local = tmp_path / "settings_local.py"
    local.write_text(MARKER_LOCAL, encoding="utf-8")
    marker = tmp_path / "marker"
    code = "import sys; from scrapy.cmdline import execute; sys.argv[0] = 'scrapy'; execute()"
    done = _python(code, local, marker, "settings", "--get", "POD_URL")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "sqlite:///from-settings-local.sqlite3"
    assert marker.read_text(encoding="utf-8") == "ran"
    done = _python(code, tmp_path / "none.py", marker, "settings", "--get", "POD_BATCH_SIZE")
    assert done.stdout.strip() == str(defaults.POD_BATCH_SIZE)


def test_media_downloads_come_on_top_of_the_api_places(no_user_settings: Path) -> None:
    """Raising TWITTER_MEDIA_CONCURRENCY must not take places from API requests: Scrapy's total
    grows with it (measured: 64 media at once left the API 8 places, its span 1.15x)."""
    default = get_crawler(settings_dict={"ADDONS": {Addon: 0}})
    assert default.settings.getint("CONCURRENT_REQUESTS") == 64 + defaults.TWITTER_MEDIA_CONCURRENCY
    more = get_crawler(settings_dict={"ADDONS": {Addon: 0}, "TWITTER_MEDIA_CONCURRENCY": "48"})
    assert more.settings.getint("CONCURRENT_REQUESTS") == 64 + 48
    chosen = get_crawler(settings_dict={"ADDONS": {Addon: 0}, "TWITTER_MEDIA_CONCURRENCY": "48",
                                        "CONCURRENT_REQUESTS": "50"})
    assert chosen.settings.getint("CONCURRENT_REQUESTS") == 50
    # What `scrapy settings` shows (resolved, no crawler) is what the crawl uses.
    resolved = Settings()
    resolve(resolved, {"TWITTER_MEDIA_CONCURRENCY": "16"})
    assert resolved.getint("CONCURRENT_REQUESTS") == 64 + 16


def test_an_extension_switched_off_is_not_even_imported(no_user_settings: Path) -> None:
    """Scrapy imports each listed extension before it reads its switch: the add-on leaves out
    those whose switch is off (the remote control imports aiohttp's server), and keeps them
    when a project switches them on."""
    code = (
        "import sys\n"
        "from scrapy.utils.test import get_crawler\n"
        "from twitter_crawler.addon import Addon\n"
        "on = sys.argv[1] == 'on'\n"
        "crawler = get_crawler(settings_dict={'ADDONS': {Addon: 0}, 'REMOTE_CONTROL_ENABLED': on})\n"
        "crawler._apply_settings()\n"
        "print('remote_control' in str(crawler.extensions.middlewares),"
        " 'scrapy.extensions.remote_control' in sys.modules)\n"
    )
    runs = {flag: subprocess.run([sys.executable, "-c", code, flag], capture_output=True, text=True,  # noqa: S603
                                 cwd=ROOT, check=True, timeout=120).stdout.split()
            for flag in ("off", "on")}
    assert runs["off"] == ["False", "False"]
    assert runs["on"] == ["True", "True"]
