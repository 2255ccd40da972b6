"""settings_local.example.py documents every credential and store setting, holds no value of
one, and works as a settings_local.py as it is."""

from __future__ import annotations

import re
import runpy
import subprocess
import sys

from tests.support.servers import ROOT
from twitter_crawler.settings import defaults

EXAMPLE = ROOT / "settings_local.example.py"


def documented() -> set[str]:
    """Settings the example sets or shows commented out (``# NAME = value``)."""
    text = EXAMPLE.read_text(encoding="utf-8")
    return set(re.findall(r"^(?:# )?([A-Z][A-Z0-9_]+) = ", text, re.MULTILINE))


def test_every_credential_and_store_setting_is_documented() -> None:
    credentials = {"TWITTER_API_URL", "TWITTER_API_VERSION", "TWITTER_CONSUMER_KEY",
                   *(n for n in defaults.SECRET_SETTINGS if hasattr(defaults, n))}
    store = {n for n in dir(defaults) if n.startswith("POD_")}
    # The Pod's plugin auth is a setting of its own (set by the plugin entry point).
    wanted = credentials | store | {"POD_AUTH_JSON"}
    assert wanted - documented() == set()


def test_secrets_are_marked_and_empty() -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    values = runpy.run_path(str(EXAMPLE))
    for name in (*defaults.SECRET_SETTINGS, "POD_AUTH_JSON"):
        if name in values:
            assert values[name] == "", name
        line = re.search(rf"^(?:# )?{name} = .*$", text, re.MULTILINE)
        if line is not None:
            assert "SECRET" in line[0], line[0]


def test_the_example_works_as_settings_local(tmp_path) -> None:
    local = tmp_path / "settings_local.py"
    local.write_text(EXAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
    # The project's settings as a crawl resolves them (twitter_crawler.addon).
    code = ("from scrapy.utils.project import get_project_settings as g; "
            "from twitter_crawler.addon import resolve; s = g(); resolve(s); "
            "print(s.get('POD_URL'), repr(s.get('TWITTER_CONSUMER_SECRET')))")
    out = subprocess.run(  # noqa: S603 (our own command line)
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT),
             "SCRAPY_SETTINGS_MODULE": "twitter_crawler.settings",
             "TWITTER_CRAWLER_SETTINGS_LOCAL": str(local)},
    )
    assert out.stdout.strip() == "sqlite:///pod.sqlite3 ''"
