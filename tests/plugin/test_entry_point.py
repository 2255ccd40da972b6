"""The plugin run as the Pod runs it: the Dockerfile's command in a clean environment holding the
Pod's four variables, against the test Pod and the emulator (issue: runs inside the Pod)."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.plugin.conftest import CREDENTIALS, emulator_args
from tests.plugin.support import (
    PodOwner,
    assert_pod_equals_truth,
    auth_counts,
    container_env,
    dockerfile_command,
    run_plugin,
)
from tests.support.apiversion import V2
from tests.support.servers import ROOT, ServerProcess


def truth(emulator: ServerProcess) -> list[dict]:
    # The plugin reads API v2, the default (its config has no version).
    return emulator.get_json(f"/_emulator/truth?handle=alice&following_tweets=5&api={V2.version}")["items"]


def test_the_pod_gets_the_complete_world_and_the_run_says_done(
    emulator: ServerProcess, pod_server: ServerProcess, tmp_path: Path
) -> None:
    owner = PodOwner(pod_server)
    # Credentials and the API's address in the PluginRun's config, as a front end stores them.
    run = owner.create_run({"handle": "@alice", "api_url": emulator.url, **CREDENTIALS})
    env = container_env(owner.pod_env(run))
    before = auth_counts(pod_server)

    result = run_plugin(env, cwd=tmp_path)

    used = auth_counts(pod_server) - before
    assert result.returncode == 0, result.stderr[-3000:]
    # Inside the Pod the plugin has no database key: every call it made was PluginAuth.
    assert used["auth/PluginAuth"] > 0 and used["auth/ClientAuth"] == 0, used
    assert_pod_equals_truth(owner.dump(), truth(emulator))
    final = owner.get(run["id"])
    assert (final["status"], final["progress"]) == ("done", 1.0), final
    assert "error" not in final
    assert "Import finished" in result.stderr
    assert f"PluginRun {run['id']}: done" in result.stderr


def test_the_config_is_read_from_the_pod_when_the_target_item_has_none(
    emulator: ServerProcess, pod_server: ServerProcess, tmp_path: Path
) -> None:
    owner = PodOwner(pod_server)
    config = {"handle": "alice", "parts": ["user"], "api_url": emulator.url, **CREDENTIALS}
    run = owner.create_run(config)
    env = container_env(owner.pod_env({"id": run["id"], "type": "PluginRun"}, owner.plugin_auth(run["id"])))

    result = run_plugin(env, cwd=tmp_path)

    assert result.returncode == 0, result.stderr[-3000:]
    accounts = [i for i in owner.dump()["items"] if i["type"] == "Account"]
    assert [(a["handle"], a["isMe"]) for a in accounts] == [("alice", True)]
    assert owner.get(run["id"])["status"] == "done"


def test_bad_twitter_credentials_end_in_error_status(
    emulator: ServerProcess, pod_server: ServerProcess, tmp_path: Path
) -> None:
    owner = PodOwner(pod_server)
    config = {"handle": "alice", "api_url": emulator.url,
              **{**CREDENTIALS, "consumer_secret": "not-the-right-secret"}}
    run = owner.create_run(config)

    result = run_plugin(container_env(owner.pod_env(run)), cwd=tmp_path)

    assert result.returncode == 1, result.stderr[-3000:]
    final = owner.get(run["id"])
    assert final["status"] == "error", final
    assert final["error"] == "the import stopped: twitter_bad_credentials"
    assert "not-the-right-secret" not in result.stdout + result.stderr


def test_started_with_progress_then_sigterm_aborts(pod_server: ServerProcess, tmp_path: Path) -> None:
    # Slow answers: the run is still going when the Pod looks, and when it stops the container.
    with ServerProcess("twitter_emulator", *emulator_args("--latency", "0.4")) as slow:
        owner = PodOwner(pod_server)
        run = owner.create_run({"handle": "alice", "api_url": slow.url, **CREDENTIALS})
        env = container_env(owner.pod_env(run), {"POD_PLUGIN_PROGRESS_INTERVAL": "0.3"})
        log = (tmp_path / "plugin.log").open("w+", encoding="utf-8")
        proc = subprocess.Popen(  # noqa: S603 (our own command line)
            dockerfile_command(), stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path, env=env,
        )
        try:
            seen = []
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and proc.poll() is None:
                item = owner.get(run["id"])
                seen.append((item.get("status"), item.get("progress")))
                if item.get("status") == "started" and (item.get("progress") or 0) > 0:
                    break
                time.sleep(0.1)
            assert proc.poll() is None, "the run ended before the test could stop it"
            proc.send_signal(signal.SIGTERM)  # what docker stop sends (through tini)
            code = proc.wait(60)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(10)
            log.seek(0)
            output = log.read()
            log.close()
    assert ("started", 0.0) in seen, seen
    assert any(s == "started" and (p or 0) > 0 for s, p in seen), seen
    assert code == 1, output[-3000:]
    final = owner.get(run["id"])
    assert final["status"] == "aborted", final
    assert "run it again" in final["error"]
    assert 0 < final["progress"] < 1


def test_simulate_pod_run_script(emulator: ServerProcess, pod_server: ServerProcess) -> None:
    env = {
        **container_env({}),
        # Credentials as a container's configured environment carries them.
        **{f"TWITTER_{k.upper()}": v for k, v in CREDENTIALS.items()},
    }
    env.pop("PYTHONPATH")
    proc = subprocess.run(  # noqa: S603 (our own command line)
        [sys.executable, "scripts/simulate_pod_run.py", "--pod", pod_server.url,
         "--handle", "alice", "--api-url", emulator.url],
        capture_output=True, text=True, cwd=ROOT, env=env, timeout=120, check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:] + proc.stdout
    assert "status=done progress=1.0 error=-" in proc.stdout, proc.stdout
    owner_key = re.search(r"fresh owner ([0-9a-f]{64})", proc.stdout)[1]
    assert_pod_equals_truth(pod_server.get_json(f"/_podserver/dump?owner={owner_key}"), truth(emulator))
    # The command it started is the image's.
    assert "starting python -m twitter_crawler.plugin" in proc.stdout
    assert dockerfile_command()[1:] == ["-m", "twitter_crawler.plugin"]
