"""A missing or malformed variable of the Pod's environment, or a bad PluginRun config: one clear
line, exit status 2, nothing imported, and never the secret value in the line."""

from __future__ import annotations

import json
import re
import secrets
from pathlib import Path
from typing import Any

import pytest

from tests.plugin.support import PodOwner, container_env, run_plugin
from tests.support.servers import ServerProcess
from twitter_crawler.plugin.environment import (
    CONFIG_KEYS,
    PluginConfigError,
    read_config,
    read_environment,
)

OWNER = secrets.token_hex(32)
AUTH = {"data": {"nonce": secrets.token_hex(24), "encryptedPermissions": secrets.token_hex(40)}}
RUN = {"id": "3f1c0ffee0ddba11", "type": "PluginRun", "config": json.dumps({"handle": "alice"})}


def good_env() -> dict[str, str]:
    return {
        # Nothing listens there: the checks come before any request.
        "POD_FULL_ADDRESS": "http://127.0.0.1:9",
        "POD_OWNER": OWNER,
        "POD_AUTH_JSON": json.dumps(AUTH),
        "POD_TARGET_ITEM": json.dumps(RUN),
    }


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("POD_FULL_ADDRESS", None, "POD_FULL_ADDRESS is not set"),
        ("POD_OWNER", None, "POD_OWNER is not set"),
        ("POD_AUTH_JSON", None, "POD_AUTH_JSON is not set"),
        ("POD_TARGET_ITEM", None, "POD_TARGET_ITEM is not set"),
        ("POD_FULL_ADDRESS", "pod.example:3030", "POD_FULL_ADDRESS='pod.example:3030' is not a Pod address"),
        ("POD_FULL_ADDRESS", "http://me:pw@pod.example", "POD_FULL_ADDRESS must be http(s)://host:port"),
        ("POD_OWNER", "0123456789abcdefXYZ" * 4, "POD_OWNER is not a Pod owner key"),
        ("POD_AUTH_JSON", "{'data': 'nonce'}", "POD_AUTH_JSON is not JSON"),
        ("POD_AUTH_JSON", json.dumps({"data": {"nonce": "abc"}}), "POD_AUTH_JSON is malformed"),
        ("POD_AUTH_JSON", json.dumps({"type": "ClientAuth", "databaseKey": OWNER}),
         "POD_AUTH_JSON is not a PluginAuth"),
        ("POD_TARGET_ITEM", "[1, 2]", "POD_TARGET_ITEM is not a JSON object"),
        ("POD_TARGET_ITEM", json.dumps({"type": "PluginRun"}), "POD_TARGET_ITEM has no valid item id"),
        ("POD_TARGET_ITEM", json.dumps({**RUN, "config": "{handle: alice"}),
         "the config of the PluginRun 3f1c0ffee0ddba11 is not JSON"),
        ("POD_TARGET_ITEM", json.dumps({**RUN, "config": json.dumps({"handle": "no such!"})}),
         "handle='no such!' is not a Twitter handle"),
    ],
)
def test_one_line_and_exit_2(tmp_path: Path, name: str, value: str | None, message: str) -> None:
    env = good_env()
    if value is None:
        del env[name]
    else:
        env[name] = value
    result = run_plugin(container_env(env), cwd=tmp_path, timeout=60)
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("twitter plugin: ") and message in lines[0], lines[0]
    for secret in (OWNER, AUTH["data"]["nonce"], AUTH["data"]["encryptedPermissions"], "pw@"):
        assert secret not in lines[0]


def test_spider_arguments_on_the_command_line_are_refused(tmp_path: Path) -> None:
    result = run_plugin(container_env(good_env()), "-a", "handle=bob", cwd=tmp_path, timeout=60)
    assert result.returncode == 2
    assert result.stderr == (
        "twitter plugin: spider arguments come from the PluginRun's config, not from the "
        "command line\n"
    )


def test_a_bad_config_is_also_the_runs_error(pod_server: ServerProcess, tmp_path: Path) -> None:
    owner = PodOwner(pod_server)
    run = owner.create_run({"handle": "alice", "limit": -4})
    result = run_plugin(container_env(owner.pod_env(run)), cwd=tmp_path, timeout=60)
    assert result.returncode == 2
    assert result.stderr == (
        f"twitter plugin: the config of the PluginRun {run['id']}: limit='-4' must be 0 or more\n"
    )
    final = owner.get(run["id"])
    assert final["status"] == "error"
    assert final["error"] == f"the config of the PluginRun {run['id']}: limit='-4' must be 0 or more"


# -- the same checks, in this process ---------------------------------------------------------


def config(**values: Any) -> dict[str, Any]:
    return {"id": "run-1", "config": json.dumps(values)}


def test_config_becomes_arguments_and_settings() -> None:
    got = read_config(config(handle="@jack", parts=["user", "timeline"], limit=10,
                             following_tweets="3", api_url="http://127.0.0.1:8080",
                             consumer_key="ck", consumer_secret="cs", access_token="at",
                             access_secret="as", media="photos,avatars,videos"))
    assert got.arguments == {"handle": "@jack", "parts": "user,timeline", "limit": "10",
                             "following_tweets": "3"}
    assert got.settings == {"TWITTER_API_URL": "http://127.0.0.1:8080",
                            "TWITTER_CONSUMER_KEY": "ck", "TWITTER_CONSUMER_SECRET": "cs",
                            "TWITTER_ACCESS_TOKEN": "at", "TWITTER_ACCESS_SECRET": "as",
                            "TWITTER_MEDIA": "photos,avatars,videos"}
    assert sorted(got.secrets()) == ["as", "at", "cs"]
    assert "cs" not in repr(got)
    # pymemri stores the config as a JSON string; an object is fine too.
    assert read_config({"id": "r", "config": {"handle": "jack"}}).arguments == {"handle": "jack"}


@pytest.mark.parametrize(
    ("run", "message"),
    [
        ({"id": "r"}, "is empty"),
        (config(), "handle is required"),
        (config(handle="jack", since="2020"), "unknown keys since"),
        (config(handle="jack", parts="user,likes"), "unknown part likes"),
        (config(handle="jack", limit=True), "limit must be a string or a number"),
        (config(handle="jack", api_url="ftp://x"),
         "api_url: TWITTER_API_URL='ftp://x': must be an http(s)://host URL"),
        (config(handle="jack", access_secret="two words"),
         "access_secret: TWITTER_ACCESS_SECRET (value not shown: it is a secret): must be"),
        (config(handle="jack", consumer_secret=""), "consumer_secret must be a non-empty string"),
        ({"id": "r", "config": "[]"}, "is not a JSON object"),
        (config(handle="jack", media="photos,gifs"),
         "media: TWITTER_MEDIA='photos,gifs': must be a comma list of photos, avatars, videos, or "
         "empty for no media; gifs is not one of them"),
    ],
)
def test_bad_configs(run: dict[str, Any], message: str) -> None:
    with pytest.raises(PluginConfigError, match=re.escape(message)):
        read_config(run)


def test_the_environment_keeps_its_secrets_out_of_repr() -> None:
    env = read_environment(good_env())
    assert env.run_id == RUN["id"]
    assert env.url == "http://127.0.0.1:9"
    assert OWNER not in repr(env) and AUTH["data"]["nonce"] not in repr(env)
    assert {OWNER, *AUTH["data"].values()} <= set(env.secrets())
    assert set(CONFIG_KEYS) >= {"handle", "parts", "limit", "following_tweets"}


def test_run_states_are_pymemris() -> None:
    from pymemri.plugin import states

    import twitter_crawler.stores.pod  # noqa: F401 (imports pymemri without its logging setup)
    from twitter_crawler.plugin import reporter

    for name in ("RUN_STARTED", "RUN_COMPLETED", "RUN_FAILED", "RUN_ABORTED"):
        assert getattr(reporter, name) == getattr(states, name)


def test_a_config_that_cannot_be_read_from_the_pod_is_one_line_and_exit_1(tmp_path: Path) -> None:
    env = {**good_env(), "POD_TARGET_ITEM": json.dumps({"id": RUN["id"], "type": "PluginRun"})}
    result = run_plugin(container_env(env), cwd=tmp_path, timeout=60)
    assert result.returncode == 1
    assert result.stderr == (
        f"twitter plugin: cannot read the PluginRun {RUN['id']} from the Pod at "
        "http://127.0.0.1:9 (connection failed)\n"
    )
