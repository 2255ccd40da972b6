"""A bad path, a file that is no ZIP, a truncated ZIP, a ZIP of something else and a ZIP without
tweets.js: one line, exit 2, nothing written."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from tests.archive.support import run_archive

EXAMPLES = Path(__file__).resolve().parents[1] / "fixtures" / "archive"


def _zip_of(folder: Path, out: Path, skip: str = "") -> Path:
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for f in sorted(folder.rglob("*")):
            if f.is_file() and f.name != skip:
                zf.write(f, f.relative_to(folder).as_posix())
    return out


def _bad(tmp: Path, kind: str) -> tuple[str, str]:
    if kind == "missing":
        return str(tmp / "nope.zip"), "no such file or folder"
    if kind == "empty_argument":
        return "", "path is required"
    if kind == "not_a_zip":
        (tmp / "notes.zip").write_text("just some text\n" * 100)
        return str(tmp / "notes.zip"), "is not a ZIP file"
    if kind == "truncated":
        whole = _zip_of(EXAMPLES, tmp / "whole.zip").read_bytes()
        (tmp / "cut.zip").write_bytes(whole[: len(whole) // 2])
        return str(tmp / "cut.zip"), "truncated or damaged ZIP"
    if kind == "something_else":
        with zipfile.ZipFile(tmp / "photos.zip", "w") as zf:
            zf.writestr("holiday/img_001.jpg", b"\xff\xd8\xff" + b"0" * 100)
        return str(tmp / "photos.zip"), "holds no data/tweets.js"
    if kind == "no_tweets":
        return str(_zip_of(EXAMPLES, tmp / "partial.zip", skip="tweets.js")), "holds no data/tweets.js"
    raise AssertionError(kind)


@pytest.mark.parametrize("kind", ["missing", "empty_argument", "not_a_zip", "truncated",
                                  "something_else", "no_tweets"])
def test_bad_archive_fails_cleanly(tmp_path: Path, kind: str) -> None:
    path, message = _bad(tmp_path, kind)
    store = tmp_path / "pod.sqlite3"
    result = run_archive(path, store)
    assert result.returncode == 2, result.log[-2000:]
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, lines
    assert lines[0].startswith("archive: ") and message in lines[0]
    assert not store.exists()
    assert not store.with_name("pod.files").exists()


def test_unpacked_folder_imports(tmp_path: Path) -> None:
    """The folder an archive unpacks to is read like the ZIP (here: the example files)."""
    store = tmp_path / "pod.sqlite3"
    result = run_archive(EXAMPLES, store)
    assert result.returncode == 0, result.log[-2000:]
    assert "tweets 3" in result.log and "followers 3/3" in result.log  # the progress line
    assert "skipped   2 media files the archive lacks" in result.log  # no media in the examples
    assert store.exists()
