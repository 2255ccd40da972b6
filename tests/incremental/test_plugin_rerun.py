"""Reruns inside the Pod (PRODUCT.md §5, §10): the plugin has no database key, only the Pod's
PluginAuth, and its reruns are as incremental as any other: one timeline request per account."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tests.incremental.support import log_seq, me_id, per_user, timeline_requests
from tests.plugin.conftest import CREDENTIALS, emulator_args
from tests.plugin.support import PodOwner, assert_pod_equals_truth, container_env, run_plugin
from tests.support.apiversion import V2
from tests.support.servers import ServerProcess


def test_a_plugin_rerun_makes_one_timeline_request_per_account(
    start_emulator: Callable[..., ServerProcess], pod_server: ServerProcess, tmp_path: Path
) -> None:
    # The plugin reads API v2 (the default; its config has no version): 250 own tweets are three
    # pages of 100 (the plugin world's 70 would be one, which a rerun also makes).
    emulator = start_emulator(*emulator_args("--tweets", str(2 * V2.timeline_page + 50)))
    me = me_id(emulator)
    owner = PodOwner(pod_server)
    config = {"handle": "alice", "api_url": emulator.url, **CREDENTIALS}

    first = run_plugin(container_env(owner.pod_env(owner.create_run(config))), cwd=tmp_path)
    assert first.returncode == 0, first.stderr[-3000:]
    walked = per_user(timeline_requests(emulator, 0))
    assert walked[me] > 1, "the first run walks the own timeline over several pages"

    seq = log_seq(emulator)
    second = run_plugin(container_env(owner.pod_env(owner.create_run(config))), cwd=tmp_path)
    assert second.returncode == 0, second.stderr[-3000:]
    assert per_user(timeline_requests(emulator, seq)) == dict.fromkeys(walked, 1)
    assert_pod_equals_truth(
        owner.dump(), emulator.get_json(f"/_emulator/truth?handle=alice&following_tweets=5&api={V2.version}")["items"]
    )
