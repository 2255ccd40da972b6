"""The test servers and the crawler share no code: the emulator is the crawler's oracle (its truth
must not be built with the crawler's own helpers), and a Pod does not run the crawler's code."""

from __future__ import annotations

import re
import subprocess
import sys

from tests.support.servers import ROOT

#: Imports every module of the packages named, and prints what got imported. The plugin's
#: ``__main__`` is left out: importing it runs the plugin (the servers' are guarded).
IMPORT_ALL = (
    "import importlib, pkgutil, sys\n"
    "for name in sys.argv[1:]:\n"
    "    package = importlib.import_module(name)\n"
    "    for module in pkgutil.walk_packages(package.__path__, name + '.'):\n"
    "        if name != 'twitter_crawler' or not module.name.endswith('.__main__'):\n"
    "            importlib.import_module(module.name)\n"
    "print(' '.join(sorted(sys.modules)))\n"
)


def imported_by(*packages: str) -> set[str]:
    proc = subprocess.run(  # noqa: S603 (our own command line)
        [sys.executable, "-c", IMPORT_ALL, *packages],
        capture_output=True, text=True, cwd=ROOT, check=True, timeout=120,
    )
    return set(proc.stdout.split())


def test_the_test_servers_import_nothing_of_the_crawler() -> None:
    modules = imported_by("twitter_emulator", "pod_testserver")
    assert "twitter_emulator.truth" in modules and "pod_testserver.server" in modules
    assert not {m for m in modules if m.split(".")[0] == "twitter_crawler"}


def test_the_crawler_imports_no_test_server() -> None:
    modules = imported_by("twitter_crawler")
    assert "twitter_crawler.spiders.twitter" in modules
    assert not {m for m in modules if m.split(".")[0] in ("twitter_emulator", "pod_testserver")}


def test_the_plugin_image_copies_the_crawler_only() -> None:
    copied = re.findall(r"^COPY\s+(?!--from)(.+?)\s+\S+$", (ROOT / "Dockerfile").read_text(), re.M)
    sources = {src for line in copied for src in line.split()}
    assert sources == {"pyproject.toml", "README.md", "twitter_crawler"}
    ignored = set((ROOT / ".dockerignore").read_text().split())
    assert {"twitter_emulator/", "pod_testserver/", "tests/", "bench/"} <= ignored
