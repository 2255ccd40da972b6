"""The plugin checks the crawl's settings as ``scrapy crawl`` does, before it marks the run
``started``: a bad one is one line, exit status 2, the PluginRun's ``error``, and no request."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.plugin.conftest import CREDENTIALS
from tests.plugin.support import PodOwner, container_env, run_plugin
from tests.support.servers import ServerProcess
from twitter_crawler.plugin.run import cmdline_settings


@pytest.mark.parametrize(
    ("extra_env", "args", "message"),
    [
        # from the container's environment
        ({"POD_BATCH_SIZE": "0"}, [], "POD_BATCH_SIZE='0': must be a whole number of 1 or more"),
        # from the plugin's command line
        ({}, ["-s", "TWITTER_API_VERSION=3"], "TWITTER_API_VERSION='3': must be 1.1 or 2"),
        # a secret: named, never shown
        ({"TWITTER_CONSUMER_SECRET": "two words"}, [],
         "TWITTER_CONSUMER_SECRET (value not shown: it is a secret): must be a string without "
         "blanks or control characters (or empty when not set)"),
    ],
    ids=["environment", "command-line", "secret"],
)
def test_a_bad_setting_is_one_line_exit_2_and_the_runs_error(
    emulator: ServerProcess, pod_server: ServerProcess, tmp_path: Path,
    extra_env: dict[str, str], args: list[str], message: str,
) -> None:
    owner = PodOwner(pod_server)
    credentials = {k: v for k, v in CREDENTIALS.items()
                   if not ("TWITTER_CONSUMER_SECRET" in extra_env and k == "consumer_secret")}
    run = owner.create_run({"handle": "alice", "api_url": emulator.url, **credentials})
    before = emulator.get_json("/_emulator/log")["last_seq"]

    result = run_plugin(container_env(owner.pod_env(run), extra_env), *args, cwd=tmp_path, timeout=60)

    assert result.returncode == 2, result.stderr[-3000:]
    assert result.stderr == f"twitter plugin: bad setting: {message}\n"
    final = owner.get(run["id"])
    assert (final["status"], final["error"]) == ("error", f"bad setting: {message}"), final
    assert emulator.get_json("/_emulator/log")["last_seq"] == before
    assert "two words" not in result.stderr + str(final)


def test_a_bad_value_in_the_runs_config_is_checked_by_the_same_rules(
    emulator: ServerProcess, pod_server: ServerProcess, tmp_path: Path
) -> None:
    # The config's "media" becomes TWITTER_MEDIA, and is refused by TWITTER_MEDIA's rule.
    owner = PodOwner(pod_server)
    run = owner.create_run({"handle": "alice", "api_url": emulator.url, "media": "holograms",
                            **CREDENTIALS})
    result = run_plugin(container_env(owner.pod_env(run)), cwd=tmp_path, timeout=60)
    message = (f"the config of the PluginRun {run['id']}: media: TWITTER_MEDIA='holograms': must "
               "be a comma list of photos, avatars, videos, or empty for no media; holograms is "
               "not one of them")
    assert result.returncode == 2, result.stderr[-3000:]
    assert result.stderr == f"twitter plugin: {message}\n"
    assert (owner.get(run["id"])["status"], owner.get(run["id"])["error"]) == ("error", message)


@pytest.mark.parametrize(
    ("args", "settings"),
    [
        (["-s", "A=1", "--set", "B=2=3", "--set=C=", "-sD=4"], {"A": "1", "B": "2=3", "C": "", "D": "4"}),
        (["-L", "DEBUG", "--nolog"], {}),
        (["-s", "no-equals-sign"], {}),
    ],
)
def test_cmdline_settings(args: list[str], settings: dict[str, str]) -> None:
    assert cmdline_settings(args) == settings
