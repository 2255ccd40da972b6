"""Inside the Pod the plugin keeps the media too: files go up with the plugin's own
authentication (``upload_file_b``, no database key), once per content, with their items."""

from __future__ import annotations

from pathlib import Path

from tests.media.support import expected_media
from tests.plugin.conftest import CREDENTIALS
from tests.plugin.support import PodOwner, auth_counts, container_env, run_plugin
from tests.support.servers import ServerProcess


def test_the_plugin_uploads_photos_and_profile_pictures(
    emulator: ServerProcess, pod_server: ServerProcess, tmp_path: Path
) -> None:
    owner = PodOwner(pod_server)
    run = owner.create_run({"handle": "alice", "api_url": emulator.url, **CREDENTIALS})
    env = container_env(owner.pod_env(run), {"TWITTER_MEDIA": "photos,avatars"})
    before = auth_counts(pod_server)

    result = run_plugin(env, cwd=tmp_path)

    assert result.returncode == 0, result.stderr[-3000:]
    used = auth_counts(pod_server) - before
    assert used["auth/ClientAuth"] == 0, used
    following_tweets = 5  # the plugin's default, as for any crawl
    want = expected_media(emulator, {"photos", "avatars"}, following_tweets)
    shas = {sha for _, sha in want.files.values()}
    dump = owner.dump()
    assert set(dump["files"]) == shas
    files = {item["externalId"] for item in dump["items"] if item["type"] == "File"}
    assert files == shas
    assert owner.get(run["id"])["status"] == "done"
