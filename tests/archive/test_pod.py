"""The archive import into a real Pod (the test Pod server): the same items and edges as into
SQLite, the media files uploaded once per sha256, nothing private."""

from __future__ import annotations

import json
import zipfile
from hashlib import sha256
from pathlib import Path

from tests.archive.support import run_archive, write_archive
from tests.incremental.support import PodTarget, SQLiteTarget
from tests.podserver.support import podserver
from twitter_emulator.archive import PRIVATE_MARKER


def test_pod_gets_what_sqlite_gets(tmp_path: Path) -> None:
    zpath = tmp_path / "x.zip"
    write_archive(zpath, "--tweets", "400", "--parts", "2", "--seed", "9", "--missing-media", "2")
    store = tmp_path / "pod.sqlite3"
    assert run_archive(zpath, store).returncode == 0
    with podserver() as server:
        target = PodTarget(server)
        result = run_archive(zpath, None, env=target.settings())
        assert result.returncode == 0, result.log[-3000:]
        pod = target.snapshot()
        dump = target.dump()
    sqlite = SQLiteTarget(store).snapshot()
    assert pod.twins == []
    assert set(pod.items) == set(sqlite.items)
    assert sorted(pod.edges) == sorted(sqlite.edges)
    assert pod.watermarks == sqlite.watermarks and len(pod.watermarks) == 1
    with zipfile.ZipFile(zpath) as zf:
        shas = {sha256(zf.read(n)).hexdigest() for n in zf.namelist() if "_media/" in n}
    assert set(dump["files"]) == shas
    assert PRIVATE_MARKER.lower() not in json.dumps(dump).lower()
