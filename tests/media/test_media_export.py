"""An export holds each item once per crawl, as the store does (issue #14): profile pictures shared
by many accounts (the default avatars) were written once per account, and an account met as a
mention before its full profile was written twice."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path

from tests.media.support import HANDLE, SQLiteTarget
from tests.support.crawl import key_of, read_jsonl, run_crawl
from tests.support.servers import ServerProcess


def test_an_export_holds_each_item_once(
    start_world: Callable[..., ServerProcess], tmp_path: Path
) -> None:
    emulator = start_world()
    target = SQLiteTarget(tmp_path / "pod.sqlite3")
    out = tmp_path / "items.jsonl"
    result = run_crawl(emulator.url, HANDLE, "-O", str(out), env={}, timeout=240,
                       settings={**target.settings(), "TWITTER_MEDIA": "photos,avatars,videos"})
    assert result.returncode == 0, result.log[-3000:]
    records = read_jsonl(out)
    keys = Counter(key_of(record) for record in records)
    assert [k for k, n in keys.items() if n > 1] == []

    # The world does share avatars: several accounts point at one profile-picture Photo.
    pictures = Counter(r["target"]["externalId"] for r in records
                       if r["type"] == "Edge" and r["name"] == "profilePicture")
    assert max(pictures.values()) > 3, pictures.most_common(3)
    # Once, and complete: the export holds what the store holds, each with its properties.
    stored = target.read()
    assert set(keys) == {(kind, key) for kind, key in stored.items} | {
        ("Edge", *source, name, *target_) for source, name, target_ in stored.edges}
    for record in records:
        if record["type"] == "Account":
            props = stored.items[("Account", record["externalId"])]
            assert {k: v for k, v in record.items() if k != "type"} == {
                k: v for k, v in props.items() if k in record and k != "type"}, record
            assert set(props) - set(record) <= {"dateCreated", "dateModified", "id", "type"}, (
                record, props)
