"""The reader's cutting and batched decoding: whatever the batch and chunk sizes, a data file
gives the records a whole-file decode gives (unwrapped the same way), odd records included, and
a damaged file the same error after the same records."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from twitter_crawler.archive import reader
from twitter_crawler.archive.reader import Archive, ArchiveError

ME = "1460283925"


def _tweet(i: int) -> dict[str, Any]:
    tid = str(1766464819688525827 + i)
    return {
        "created_at": "Sat Mar 09 14:03:27 +0000 2024", "id": tid, "id_str": tid,
        "full_text": f"Tweet {i} with \"quotes\", braces }} {{ and a line\nbreak ✨",
        "truncated": False, "display_text_range": ["0", "40"],
        "entities": {"hashtags": [], "symbols": [], "urls": [], "user_mentions": [
            {"screen_name": "sample_friend", "name": "Sample Friend", "id_str": "987654321",
             "indices": ["0", "14"]}]},
        "lang": "en", "edit_info": {"initial": {"editTweetIds": [tid], "editsRemaining": "5"}},
    }


#: Records as odd as a damaged or hand-edited archive has them, among ordinary ones: odd field
#: types, no wrapper, a wrapper with more beside it, elements that are not objects.
ODD: list[Any] = [
    {"tweet": {"id_str": 12, "full_text": None, "entities": [], "extended_entities": "x",
               "created_at": 1.5, "lang": {"a": [1, 2]}}},
    {"tweet": {"id_str": "1", "entities": {"user_mentions": ["x", None, 3], "urls": {"u": 1},
                                           "media": [{"sizes": {"large": {"w": "2048", "h": 1e3}},
                                                      "video_info": {"variants": [1, "a"]}}]}}},
    {"tweet": {"id_str": "2", "big": 1.5e300, "neg": -0.0, "max": 18446744073709551615}},
    _tweet(10_000),  # no wrapper
    {"tweet": _tweet(10_001), "extra": True},  # not only the wrapper: kept whole
    {"tweet": "not an object"},
    {"note": _tweet(10_002)},
    {},
    [],
    [{"tweet": _tweet(10_003)}],
    "a string",
    42,
    None,
]


def _records(n: int, odd: bool = True) -> list[Any]:
    records: list[Any] = [{"tweet": _tweet(i)} for i in range(n)]
    if odd:
        for k, record in enumerate(ODD):
            records.insert((k * 37) % (n + 1), record)
    return records


def _expected(records: list[Any]) -> list[Any]:
    """What the reader gave before its decoding was batched: every element of the array, a
    ``{"tweet": {...}}`` alone unwrapped."""
    out = []
    for r in records:
        if type(r) is dict and len(r) == 1 and type(r.get("tweet")) is dict:
            out.append(r["tweet"])
        else:
            out.append(r)
    return out


def _write(folder: Path, body: bytes) -> Path:
    (folder / "data").mkdir(parents=True, exist_ok=True)
    (folder / "data" / "tweets.js").write_bytes(b"window.YTD.tweets.part0 = " + body)
    (folder / "data" / "account.js").write_bytes(
        b'window.YTD.account.part0 = [{"account": {"accountId": "%s"}}]' % ME.encode())
    return folder


def _pretty(records: list[Any]) -> bytes:
    """X's layout since 2022: ``[``, then records at two spaces, each brace on its own line."""
    return orjson.dumps(records, option=orjson.OPT_INDENT_2)


def _read(folder: Path) -> list[Any]:
    with Archive.open(folder) as archive:
        return list(archive.records("tweets"))


@pytest.fixture(params=[(1, 7), (300, 1000), (4096, 3333), (1 << 16, 1 << 20)],
                ids=lambda p: f"batch{p[0]}-chunk{p[1]}")
def sizes(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> tuple[int, int]:
    batch, chunk = request.param
    monkeypatch.setattr(reader, "BATCH", batch)
    monkeypatch.setattr(reader, "CHUNK", chunk)
    return batch, chunk


def test_every_record_as_a_whole_decode_gives_it(tmp_path: Path, sizes: tuple[int, int]) -> None:
    records = _records(150)
    assert _read(_write(tmp_path, _pretty(records))) == _expected(records)


def test_odd_records_reach_the_parser_as_before(tmp_path: Path, sizes: tuple[int, int]) -> None:
    """Odd field types decode to the same values (what the parser makes of them is its business:
    it reads every field defensively) and are parsed the same as from a whole-file decode."""
    from twitter_crawler.archive.parse import ArchiveParser, Items, MediaFile

    records = _records(40)
    got = _read(_write(tmp_path, _pretty(records)))
    assert got == _expected(records)
    assert [type(r) for r in got] == [type(r) for r in _expected(records)]

    def parse(rs: list[Any]) -> tuple[list[Any], list[MediaFile], list[str]]:
        parser, c, files = ArchiveParser(ME), Items(), []
        for r in rs:
            parser.tweet(r, c, files)
        return c.items(), files, parser.skipped

    assert parse(got) == parse(_expected(records))


@pytest.mark.parametrize("layout", ["2019", "tabs", "no-commas", "crlf"])
def test_other_layouts(tmp_path: Path, sizes: tuple[int, int], layout: str) -> None:
    # Without commas, only records cut at their braces can follow one another (as before).
    records = _records(60, odd=layout != "no-commas")
    if layout == "2019":  # "[ {" ... "}, {" with the braces at column 0
        body = b"[ " + b", ".join(orjson.dumps(r, option=orjson.OPT_INDENT_2) for r in records) + b" ]"
    elif layout == "tabs":
        body = _pretty(records).replace(b"\n  ", b"\n\t")
    elif layout == "no-commas":  # records one after the other (the reader never needed commas)
        body = _pretty(records).replace(b"\n  },\n", b"\n  }\n")
    else:
        body = _pretty(records).replace(b"\n", b"\r\n")
    assert _read(_write(tmp_path, body)) == _expected(records)


def test_a_brace_out_of_place_decodes_the_rest_whole(tmp_path: Path, sizes: tuple[int, int]) -> None:
    """A record whose inner brace sits at the records' indentation: the cut there is no record,
    and what follows is decoded in one piece, giving the same records."""
    records = _records(80)
    body = _pretty(records)
    inner = body.index(b'\n      "edit_info"', len(body) // 2)
    inner = body.index(b"\n        }", inner)  # the brace closing "initial"
    body = body[:inner] + b"\n  }" + body[inner + len(b"\n        }"):]
    assert orjson.loads(body) == records  # still the same JSON
    assert _read(_write(tmp_path, body)) == _expected(records)


def test_cut_short_fails_after_the_records_before(tmp_path: Path, sizes: tuple[int, int]) -> None:
    records = _records(80, odd=False)
    body = _pretty(records)
    cut = body.index(b'"Tweet 50 ')
    got: list[Any] = []
    with Archive.open(_write(tmp_path, body[:cut])) as archive, \
            pytest.raises(ArchiveError, match="the array is not closed: the file is cut short"):
        for record in archive.records("tweets"):
            got.append(record)
    assert got == _expected(records[:50])


def test_not_json_midway_fails_after_the_records_before(tmp_path: Path, sizes: tuple[int, int]) -> None:
    records = _records(80, odd=False)
    body = _pretty(records).replace(b'"Tweet 50 ', b'"Tweet 50 \xff ', 1)  # not UTF-8
    got: list[Any] = []
    with Archive.open(_write(tmp_path, body)) as archive, \
            pytest.raises(ArchiveError, match=r"tweets.js is not an archive data file \(not JSON: "):
        for record in archive.records("tweets"):
            got.append(record)
    assert got == _expected(records[:50])


def _media_zip(path: Path) -> dict[str, bytes]:
    """An archive with media files stored, deflated, compressed another way (bzip2), and one
    with a long extra field in its local header: the fast read and zipfile's must agree."""
    import zipfile

    files = {
        "data/tweets_media/1-stored.jpg": bytes(range(256)) * 40,
        "data/tweets_media/2-deflated.jpg": b"pixels " * 5000,
        "data/tweets_media/3-bzip2.jpg": b"bz " * 3000,
        "data/tweets_media/4-extra.jpg": b"extra " * 700,
        "data/tweets_media/5-empty.jpg": b"",
    }
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("data/tweets.js", "window.YTD.tweets.part0 = []")
        zf.writestr("data/tweets_media/1-stored.jpg", files["data/tweets_media/1-stored.jpg"],
                    compress_type=zipfile.ZIP_STORED)
        zf.writestr("data/tweets_media/2-deflated.jpg", files["data/tweets_media/2-deflated.jpg"],
                    compress_type=zipfile.ZIP_DEFLATED)
        zf.writestr("data/tweets_media/3-bzip2.jpg", files["data/tweets_media/3-bzip2.jpg"],
                    compress_type=zipfile.ZIP_BZIP2)
        info = zipfile.ZipInfo("data/tweets_media/4-extra.jpg")
        info.compress_type = zipfile.ZIP_DEFLATED
        info.extra = b"\xfe\xca" + (200).to_bytes(2, "little") + b"\0" * 200  # a 204-byte extra
        zf.writestr(info, files["data/tweets_media/4-extra.jpg"])
        zf.writestr("data/tweets_media/5-empty.jpg", b"", compress_type=zipfile.ZIP_DEFLATED)
    return files


def test_media_members_read_directly_are_the_bytes_zipfile_reads(tmp_path: Path) -> None:
    import zipfile

    path = tmp_path / "archive.zip"
    files = _media_zip(path)
    with Archive.open(path) as archive, zipfile.ZipFile(path) as zf:
        for member, data in files.items():
            assert archive.read_file(member) == data == zf.read(member), member
            read = archive._read_member(member)
            # bzip2 is left to zipfile; the others are read directly.
            assert (read is None) == member.endswith("bzip2.jpg"), member


@pytest.mark.parametrize("member", ["data/tweets_media/1-stored.jpg",
                                    "data/tweets_media/2-deflated.jpg"])
def test_a_damaged_media_member_is_an_archive_error(tmp_path: Path, member: str) -> None:
    import zipfile

    path = tmp_path / "archive.zip"
    files = _media_zip(path)
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo(member)
    body = bytearray(path.read_bytes())
    start = info.header_offset + 30 + len(member) + len(info.extra)
    body[start + info.compress_size // 2] ^= 0x55  # a byte of its data flipped
    path.write_bytes(bytes(body))
    with Archive.open(path) as archive:
        with pytest.raises(ArchiveError, match="cannot be read"):
            archive.read_file(member)
        other = next(m for m in files if m != member and not m.endswith("bzip2.jpg"))
        assert archive.read_file(other) == files[other]


def _zip_data(path: Path, body: bytes, how: str) -> str:
    """An archive whose tweets.js is ``body``, stored, deflated, bzip2-compressed (left to
    zipfile), or deflated behind a long extra field in its local header."""
    import zipfile

    member = "data/tweets.js"
    with zipfile.ZipFile(path, "w") as zf:
        info = zipfile.ZipInfo(member)
        info.compress_type = {"stored": zipfile.ZIP_STORED, "bzip2": zipfile.ZIP_BZIP2}.get(
            how, zipfile.ZIP_DEFLATED)
        if how == "extra":
            info.extra = b"\xfe\xca" + (300).to_bytes(2, "little") + b"\0" * 300
        zf.writestr(info, b"window.YTD.tweets.part0 = " + body)
        zf.writestr("data/account.js",
                    b'window.YTD.account.part0 = [{"account": {"accountId": "%s"}}]' % ME.encode())
    return member


@pytest.mark.parametrize("how", ["stored", "deflated", "bzip2", "extra"])
def test_data_files_in_a_zip_give_the_records_zipfile_gives(
        tmp_path: Path, sizes: tuple[int, int], how: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Read with pread and zlib-ng, a few KB at a time (many reads, input left over between
    them), a data file gives the same records as through zipfile, which still reads bzip2."""
    monkeypatch.setattr(reader, "_RAW_CHUNK", 3000)
    monkeypatch.setattr(reader, "_OUT_CAP", 5000)
    records = _records(1500)
    path = tmp_path / "archive.zip"
    member = _zip_data(path, _pretty(records), how)
    with Archive.open(path) as archive:
        stream = archive._stream(member)
        assert isinstance(stream, reader._Inflating) == (how != "bzip2")
        stream.close()
        assert list(archive.records("tweets")) == _expected(records)


@pytest.mark.parametrize("how", ["stored", "deflated"])
def test_a_damaged_data_file_in_a_zip_is_an_archive_error(tmp_path: Path, how: str) -> None:
    """A byte of the data changed: the records before it are read, then one clear error (a
    changed letter in a stored file is still JSON: the CRC-32 at the end finds it)."""
    import zipfile

    records = _records(1500, odd=False)
    path = tmp_path / "archive.zip"
    member = _zip_data(path, _pretty(records), how)
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo(member)
    body = bytearray(path.read_bytes())
    start = info.header_offset + 30 + len(member) + len(info.extra)
    if how == "stored":
        at = start + bytes(body[start:start + info.compress_size]).index(b"Tweet 1200 with")
        body[at + 1] ^= 0x01  # "Tweet" -> "Uweet"... a letter still
    else:
        at = start + info.compress_size * 3 // 4
        body[at] ^= 0x55
    path.write_bytes(bytes(body))
    got: list[Any] = []
    with Archive.open(path) as archive, pytest.raises(ArchiveError) as failed:
        for record in archive.records("tweets"):
            got.append(record)
    assert len(got) >= 500
    if how == "stored":
        assert "tweets.js in" in str(failed.value) and "is damaged (Bad CRC-32" in str(failed.value)
        assert len(got) > 1200  # the changed record is read too: only the CRC-32 tells


def _same_as_zipfile(path: Path) -> None:
    """Every member's name and bytes read through the archive are those zipfile reads."""
    import zipfile

    with Archive.open(path) as archive, zipfile.ZipFile(path) as zf:
        names = [i.filename for i in zf.infolist() if not i.is_dir()]
        assert archive.size("data/tweets.js") == zf.getinfo("data/tweets.js").file_size
        assert sorted(archive.media["tweets_media"]) == sorted(
            n.rpartition("/")[2] for n in names if "tweets_media/" in n)
        for name in names:
            assert archive.read_file(name) == zf.read(name), name


def _directory_of(path: Path) -> dict[str, Any] | None:
    with path.open("rb") as f:
        return reader._central_directory(f)  # type: ignore[return-value]


def test_the_central_directory_read_directly_is_what_zipfile_reads(tmp_path: Path) -> None:
    """A plain ZIP's directory is read without zipfile: UTF-8 and cp437 names, an archive
    comment, a directory entry, members of each method; each member where zipfile finds it."""
    import zipfile

    path = tmp_path / "archive.zip"
    _media_zip(path)
    with zipfile.ZipFile(path, "a") as zf:
        zf.writestr("data/tweets_media/6-ünïcode ✨.jpg", b"utf-8 name " * 50)
        zf.writestr("data/tweets_media/7-cafX.jpg", b"cp437 name")
        zf.writestr("data/empty-folder/", b"")
        zf.comment = b"an archive comment"
    # A name without the UTF-8 flag is cp437 (as older tools write them): X becomes é (0x82).
    path.write_bytes(path.read_bytes().replace(b"7-cafX.jpg", b"7-caf\x82.jpg"))
    members = _directory_of(path)
    assert members is not None
    with zipfile.ZipFile(path) as zf:
        expected = {i.filename: (i.header_offset, i.compress_type, i.compress_size, i.file_size,
                                 i.CRC, i.flag_bits) for i in zf.infolist()}
    assert {name: (m.header_offset, m.compress_type, m.compress_size, m.file_size, m.CRC,
                   m.flag_bits) for name, m in members.items()} == expected
    assert "data/tweets_media/7-caf\xe9.jpg" in members
    assert "data/tweets_media/6-ünïcode ✨.jpg" in members
    _same_as_zipfile(path)


def test_zips_of_other_shapes_are_read_through_zipfile(tmp_path: Path) -> None:
    """Bytes before the ZIP (a self-extractor's), or a ZIP64 directory (more than 65,535
    members): not read here, but by zipfile, with the same result."""
    import zipfile

    plain = tmp_path / "plain.zip"
    _media_zip(plain)
    prefixed = tmp_path / "prefixed.zip"
    prefixed.write_bytes(b"#!/bin/sh\nexit 0\n" * 10 + plain.read_bytes())
    many = tmp_path / "many.zip"
    with zipfile.ZipFile(many, "w") as zf:
        zf.writestr("data/tweets.js", "window.YTD.tweets.part0 = []")
        for i in range(65_536):
            zf.writestr(f"data/tweets_media/{i}-x.jpg", b"")
    for path in (prefixed, many):
        assert _directory_of(path) is None, path.name
        _same_as_zipfile(path)


def test_a_damaged_central_directory_is_one_clear_error(tmp_path: Path) -> None:
    """An entry of the directory overwritten: the archive cannot be opened, and says why."""
    path = tmp_path / "archive.zip"
    _media_zip(path)
    body = bytearray(path.read_bytes())
    at = body.rfind(b"PK\x01\x02")
    body[at:at + 4] = b"XXXX"
    path.write_bytes(bytes(body))
    with pytest.raises(ArchiveError, match="damaged ZIP"):
        Archive.open(path)
