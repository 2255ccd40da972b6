"""Reads X's "archive of your data" (a ZIP, or the folder it unpacks to) file by file.

The archive is a ZIP of ``data/<type>.js`` files, each ``window.YTD.<type>.part<N> = [...]``
(``ARCHIVE_FORMAT.md`` in the project's shared docs), plus media folders. Archives reach
gigabytes, so nothing here reads a whole archive, nor a whole data file, into memory: a data
file is decompressed in chunks and cut between its top-level records, a few records
(:data:`BATCH` bytes) decoded at a time (orjson). The cut relies on JSON never holding a raw
newline inside a string: X writes each top-level record's closing brace on a line of its own, at
the indentation of the array's records (``[`` then ``  {`` since 2022, ``[ {`` with the brace at
column 0 in 2019–20). A file in any other layout is decoded whole, which is only ever small,
older files.

Layouts accepted: ``tweets.js`` and its parts (``tweets-part1.js``...), the pre-2022 names
(``tweet.js``, ``tweet_media/``), records with or without their ``{"tweet": ...}`` wrapper, a
wrapper folder around ``data/`` (re-packed ZIPs), ``__MACOSX/`` entries, a UTF-8 BOM.

:meth:`Archive.open` checks what can be checked before anything is imported: the path, the ZIP's
central directory (a truncated download has none), and a tweets file; every failure is an
:class:`ArchiveError` with a one-line message saying what is wrong and what to do.
"""

from __future__ import annotations

import os
import re
import struct
import zipfile
import zlib
from collections import defaultdict
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, NamedTuple, Protocol, cast

import orjson
from zlib_ng import zlib_ng

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping
    from typing import Self

#: Bytes decompressed per read: large enough that the cutting costs nothing, small enough that
#: memory stays flat whatever the size of a part.
CHUNK = 1 << 20
#: Bytes read from the ZIP at a time (``pread``), and at most inflated from them per read: both
#: under glibc's threshold for memory of its own (128 KB). Larger, each buffer was mapped and
#: unmapped again, a page fault for every 4 KB inflated (134,000 for the 407 MB of a 200,000-tweet
#: archive), which took back the gain of zlib-ng.
_RAW_CHUNK = _OUT_CAP = 1 << 16
#: Bytes of records decoded in one ``orjson.loads``: the records up to the first cut this far
#: on. One cut searched for per batch rather than per record, and one call, is what makes
#: reading cheap: searching every record's end was a ninth of the CPU of reading the tweets. Small,
#: so that few records are alive at once: the garbage collector walks those that are at each of
#: its passes (64 KB batches cost it twice the CPU, which took back a third of the gain).
BATCH = 1 << 14

#: ``data/tweets.js``, ``data/tweets-part1.js``, ``data/deleted-tweets.js``... at any depth.
_DATA_FILE = re.compile(r"^(?P<prefix>(?:.*/)?)data/(?P<name>[A-Za-z_-]+?)(?:-part(?P<part>\d+))?\.js$")
_MEDIA_FOLDERS = ("tweets_media", "tweet_media", "profile_media")
_MEDIA_FILE = re.compile(r"^(?P<prefix>(?:.*/)?)data/(?P<folder>[a-z_]+)/(?P<file>[^/]+)$")
_WS = b" \t\r\n"
#: What reading a damaged member raises (zlib-ng's stub calls its error an instance, not a class).
_UNREADABLE = (zipfile.BadZipFile, OSError, EOFError, zlib.error, cast("type[Exception]", zlib_ng.error))


class _Readable(Protocol):
    def read(self, n: int = -1, /) -> bytes: ...


class _Member(NamedTuple):
    """Where a member of the ZIP lies and what it holds: the fields of :class:`zipfile.ZipInfo`
    read here."""

    flag_bits: int
    compress_type: int
    CRC: int
    compress_size: int
    file_size: int
    header_offset: int


#: A member's fields, read here or by zipfile.
_Info = _Member | zipfile.ZipInfo

#: The end of the central directory record (after its signature) and a directory entry.
_END = struct.Struct("<4H2LH")
_ENTRY = struct.Struct("<4s6H3L5H2L")
#: A 16-bit count or 32-bit size or offset at its largest: the real value is in a ZIP64 record.
_ZIP64_MARKS = (0xFFFF, 0xFFFFFFFF)


def _central_directory(f: IO[bytes]) -> dict[str, _Member] | None:
    """The members of a plain ZIP (one disk, no ZIP64 record, no bytes before the ZIP), read
    from its central directory in one ``pread``; ``None`` for any other ZIP, which
    :mod:`zipfile` then reads.

    An archive's directory holds an entry per media file: :mod:`zipfile` took 0.27 s to read
    those of 49,800 files, a ``ZipInfo`` built in Python for each, and both the crawl's check
    and the reading process read it before any tweet is imported. Read here: 0.1 s.
    """
    fd = f.fileno()
    size = os.fstat(fd).st_size
    tail = os.pread(fd, min(size, 22 + 0xFFFF), max(size - 22 - 0xFFFF, 0))
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) - at < 22:
        return None
    disk, cd_disk, _, count, cd_size, cd_offset, comment = _END.unpack_from(tail, at + 4)
    end_offset = size - len(tail) + at
    if (disk or cd_disk or at + 22 + comment != len(tail) or count in _ZIP64_MARKS
            or cd_size in _ZIP64_MARKS or cd_offset in _ZIP64_MARKS
            or cd_offset + cd_size != end_offset):
        return None
    cd = os.pread(fd, cd_size, cd_offset)
    if len(cd) != cd_size:
        return None
    members: dict[str, _Member] = {}
    unpack = _ENTRY.unpack_from
    pos = 0
    for _ in range(count):
        if pos + 46 > cd_size:
            return None
        (sig, _, _, flags, method, _, _, crc, csize, usize, name_length, extra_length,
         comment_length, _, _, _, offset) = unpack(cd, pos)
        if sig != b"PK\x01\x02" or 0xFFFFFFFF in (csize, usize, offset):
            return None
        try:
            name = cd[pos + 46:pos + 46 + name_length].decode("utf-8" if flags & 0x800 else "cp437")
        except UnicodeDecodeError:
            return None
        if "\x00" in name:
            return None  # zipfile cuts such a name short
        members[name] = _Member(flags, method, crc, csize, usize, offset)
        pos += 46 + name_length + extra_length + comment_length
    return members if pos == cd_size else None


class ArchiveError(Exception):
    """The archive cannot be read; the message is one line for the user."""


def _record_name(name: str) -> str:
    """The wrapper key of a data file's records: ``tweets`` → ``tweet``, ``note-tweet`` →
    ``noteTweet``."""
    if name in ("tweets", "tweet"):
        return "tweet"
    head, *rest = name.split("-")
    return head + "".join(part.capitalize() for part in rest)


class Archive:
    """An open archive: its data files by type, its media files by folder."""

    def __init__(self, path: Path) -> None:
        self.path = path
        #: The ZIP's file, and its members by name (``None``: a folder).
        self._file: IO[bytes] | None = None
        self._members: Mapping[str, _Info] | None = None
        self._zip: zipfile.ZipFile | None = None  # made only for members zipfile is to read
        #: type (``tweets``, ``follower``, ...) → member names, part 0 first.
        self.data: dict[str, list[str]] = {}
        #: media folder (``tweets_media``, ``profile_media``) → file name → member name.
        self.media: dict[str, dict[str, str]] = {}
        self._sizes: dict[str, int] = {}

    # -- opening and checking ------------------------------------------------------------------

    @classmethod
    def open(cls, path: str | Path) -> Archive:
        """Opens and checks an archive; :class:`ArchiveError` if it cannot be imported."""
        archive = cls(Path(path))
        archive._open()
        return archive

    def _open(self) -> None:
        path = self.path
        if not path.exists():
            raise ArchiveError(f"path={str(path)!r}: no such file or folder")
        if path.is_dir():
            names = {p.relative_to(path).as_posix(): p.stat().st_size
                     for p in path.rglob("*") if p.is_file()}
        else:
            names = self._open_zip(path)
        self._index(names)

    def _open_zip(self, path: Path) -> dict[str, int]:
        try:
            with path.open("rb") as f:
                magic = f.read(4)
        except OSError as exc:
            raise ArchiveError(f"path={str(path)!r} cannot be read: {exc.strerror}") from None
        if not zipfile.is_zipfile(path):
            if magic == b"PK\x03\x04":
                raise ArchiveError(
                    f"path={str(path)!r} is a truncated or damaged ZIP (its table of contents is "
                    "missing): download the archive again")
            raise ArchiveError(
                f"path={str(path)!r} is not a ZIP file: give the archive X sent "
                "(twitter-YYYY-MM-DD-….zip) or the folder it unpacks to")
        try:
            self._file = path.open("rb")
            members: Mapping[str, _Info] | None = _central_directory(self._file)
            if members is None:  # not the plain layout read here: zipfile reads the directory
                self._zip = zipfile.ZipFile(self._file)
                members = {info.filename: info for info in self._zip.infolist()}
        except (zipfile.BadZipFile, OSError, EOFError, ValueError, struct.error) as exc:
            self.close()
            raise ArchiveError(
                f"path={str(path)!r} is a damaged ZIP ({exc}): download the archive again") from None
        self._members = members
        return {name: info.file_size for name, info in members.items() if not name.endswith("/")}

    def _index(self, names: dict[str, int]) -> None:
        found: dict[str, dict[str, list[tuple[int, str]]]] = defaultdict(lambda: defaultdict(list))
        media: dict[str, dict[str, dict[str, str]]] = defaultdict(lambda: defaultdict(dict))
        for name in names:
            if name.startswith(("__MACOSX/", ".")) or "/." in name:
                continue
            # (Tens of thousands of media files: a regular expression fewer for each.)
            m = _DATA_FILE.match(name) if name.endswith(".js") else None
            if m:
                found[m["prefix"]][m["name"]].append((int(m["part"] or 0), name))
                continue
            m = _MEDIA_FILE.match(name)
            if m and m["folder"] in _MEDIA_FOLDERS:
                folder = "tweets_media" if m["folder"] == "tweet_media" else m["folder"]
                media[m["prefix"]][folder][m["file"]] = name
        # The data folder with tweets (a re-packed ZIP may hold more than one folder).
        # (Part 0 is tweets.js itself: parts without it are not all of the archive.)
        prefixes = [p for p, files in found.items()
                    if any(part == 0 for kind in ("tweets", "tweet") for part, _ in files.get(kind, ()))]
        if not prefixes:
            what = "ZIP" if self._members is not None else "folder"
            raise ArchiveError(
                f"path={str(self.path)!r} holds no data/tweets.js (nor data/tweet.js): this {what} "
                "is not an X archive, or not all of it")
        prefix = min(prefixes, key=len)
        files = found[prefix]
        if "tweets" in files and "tweet" in files:
            files["tweets"] += files.pop("tweet")
        elif "tweet" in files:
            files["tweets"] = files.pop("tweet")
        self.data = {kind: [n for _, n in sorted(parts)] for kind, parts in files.items()}
        self.media = {folder: dict(entries) for folder, entries in media[prefix].items()}
        self._sizes = names

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()
            self._zip = None
        if self._file is not None:
            self._file.close()
            self._file = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- reading -------------------------------------------------------------------------------

    def size(self, member: str) -> int:
        """The uncompressed size of a member, in bytes."""
        return self._sizes.get(member, 0)

    def _stream(self, member: str) -> IO[bytes] | _Inflating:
        if self._members is not None:
            local = self._local(member)
            if local is None:
                return self._zipfile().open(member)
            return _Inflating(member, *local)
        return (self.path / member).open("rb")

    def read_file(self, member: str) -> bytes:
        """The bytes of one (media) member."""
        try:
            if self._members is not None and (data := self._read_member(member)) is not None:
                return data
            with self._stream(member) as f:
                return f.read()
        except _UNREADABLE as exc:
            raise ArchiveError(f"{member} in {self.path} cannot be read ({exc})") from None

    def _zipfile(self) -> zipfile.ZipFile:
        """:mod:`zipfile` over the archive, for the members it is to read (:meth:`_local`)."""
        if self._zip is None:
            assert self._file is not None
            self._zip = zipfile.ZipFile(self._file)
        return self._zip

    def _local(self, member: str) -> tuple[_Info, int, int, bytes] | None:
        """Where a stored or deflated member's data starts: its info, the ZIP's file descriptor,
        the offset, and the first bytes of the data, up to :data:`_RAW_CHUNK` (read with the
        local header); ``None`` for anything else (encrypted, another method, an odd header):
        :mod:`zipfile` reads those.
        """
        assert self._members is not None
        assert self._file is not None
        info = self._members.get(member)
        if info is None or info.flag_bits & 0x1 or info.compress_type not in (
                zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            return None
        fd = self._file.fileno()
        # The local header (30 bytes, the name, an extra field of a guessed length), then the
        # start of the data: most media files whole.
        ahead = min(info.compress_size, _RAW_CHUNK)
        head = os.pread(fd, 30 + len(member.encode()) + 64 + ahead, info.header_offset)
        if len(head) < 30 or head[:4] != b"PK\x03\x04":
            return None
        name_length, extra_length = struct.unpack_from("<HH", head, 26)
        start = 30 + name_length + extra_length
        return info, fd, info.header_offset + start, head[start:start + info.compress_size]

    def _read_member(self, member: str) -> bytes | None:
        """A stored or deflated member of the ZIP, read with one or two ``pread`` calls and
        checked as :mod:`zipfile` checks it (size, CRC-32); ``None`` when :mod:`zipfile` is to
        read it (:meth:`_local`).

        An archive holds tens of thousands of media files: through ``ZipFile.open`` each cost
        52 us of CPU (a file object, a seek, a header parsed in Python, a decompressor), read
        this way 15 us (20,000 of the 200,000-tweet archive's files, on this 2-core machine).
        """
        local = self._local(member)
        if local is None:
            return None
        info, fd, offset, raw = local
        size = info.compress_size
        if len(raw) < size:
            raw += os.pread(fd, size - len(raw), offset + len(raw))
        if len(raw) < size:
            raise EOFError(f"{member} is cut short")
        data = zlib_ng.decompress(raw, -15) if info.compress_type == zipfile.ZIP_DEFLATED else raw
        _check(member, info, len(data), zlib_ng.crc32(data))
        return data

    def has(self, kind: str) -> bool:
        return bool(self.data.get(kind))

    def records(self, kind: str) -> Iterator[Any]:
        """Every record of a data type, over all its parts, unwrapped (``{"tweet": {...}}`` →
        ``{...}``). :class:`ArchiveError` on a file that is not an archive data file."""
        for member in self.data.get(kind, ()):
            yield from self.member_records(member, kind)

    def member_records(self, member: str, kind: str) -> Iterator[Any]:
        wrapper = _record_name(kind)
        try:
            with self._stream(member) as stream:
                for batch in _Elements(stream, member).batches():
                    for element in batch:
                        if type(element) is dict and len(element) == 1:
                            inner = element.get(wrapper)
                            if type(inner) is dict:
                                yield inner
                                continue
                        yield element
        except _UNREADABLE as exc:
            # A CRC mismatch or a short member: the central directory was there, the data not.
            raise ArchiveError(f"{member} in {self.path} is damaged ({exc}): download the "
                               "archive again") from None

    def manifest(self) -> dict[str, Any]:
        """``data/manifest.js`` (``window.__THAR_CONFIG = {...}``), or ``{}`` without one."""
        members = self.data.get("manifest")
        if not members:
            return {}
        body = self.read_file(members[0])
        _, sep, rest = body.partition(b"=")
        try:
            value = orjson.loads(rest.strip(_WS + b";")) if sep else None
        except orjson.JSONDecodeError:
            value = None
        return value if type(value) is dict else {}


class _Inflating:
    """A data file of the ZIP, stored or deflated, read in chunks with ``pread`` and inflated by
    zlib-ng, then checked as :mod:`zipfile` checks it: its size and CRC-32 at the end.

    Inflating and checking the tweets are a tenth of the reading process's CPU: zlib-ng does
    both in 0.65 s for the 407 MB of a 200,000-tweet archive, zlib (which :mod:`zipfile` uses)
    in 1.0 s, with its Python layers around.
    """

    def __init__(self, member: str, info: _Info, fd: int, offset: int,
                 first: bytes) -> None:
        self.member = member
        self._info = info
        self._fd = fd
        self._next = offset + len(first)  # of the compressed bytes not read yet
        self._left = info.compress_size - len(first)
        self._pending = first
        self._inflate = (zlib_ng.decompressobj(-15)
                         if info.compress_type == zipfile.ZIP_DEFLATED else None)
        self._crc = 0
        self._size = 0
        self._done = False

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._done = True
        self._pending = b""

    def read(self, n: int = -1) -> bytes:
        """Up to ``n`` bytes (all that is left with ``n < 0``); ``b""`` at the end."""
        if n < 0:
            return b"".join(iter(lambda: self.read(CHUNK), b""))
        while not self._done:
            if not self._pending and self._left > 0:
                raw = os.pread(self._fd, min(self._left, _RAW_CHUNK), self._next)
                if not raw:
                    raise EOFError(f"{self.member} is cut short")
                self._next += len(raw)
                self._left -= len(raw)
                self._pending = raw
            inflate = self._inflate
            if inflate is None:
                data, self._pending = self._pending[:n], self._pending[n:]
            else:
                data = inflate.decompress(self._pending, min(n, _OUT_CAP))
                self._pending = inflate.unconsumed_tail
                if inflate.eof:  # what follows the stream is not the member's (as zipfile)
                    self._pending, self._left = b"", 0
            if data:
                self._crc = zlib_ng.crc32(data, self._crc)
                self._size += len(data)
                return data
            if not self._pending and self._left <= 0:
                self._finish()
        return b""

    def _finish(self) -> None:
        self._done = True
        if self._inflate is not None and not self._inflate.eof:
            raise EOFError(f"{self.member} is cut short")
        _check(self.member, self._info, self._size, self._crc)


def _check(member: str, info: _Info, size: int, crc: int) -> None:
    """What :mod:`zipfile` checks once a member is read: its size and CRC-32."""
    if size != info.file_size or crc != info.CRC:
        raise zipfile.BadZipFile(f"Bad CRC-32 for file {member!r}")


def _bad(member: str, what: str) -> ArchiveError:
    return ArchiveError(f"{member} is not an archive data file ({what}): the archive is damaged "
                        "or not an X archive")


def _decode(member: str, data: bytes | bytearray | memoryview) -> Any:
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise _bad(member, f"not JSON: {exc}") from None


class _Elements:
    """The top-level elements of ``window.YTD.x.partN = [ ... ]``, a batch at a time."""

    def __init__(self, stream: _Readable, member: str) -> None:
        self.stream = stream
        self.member = member
        self.buf = bytearray()
        self.eof = False

    def more(self) -> bool:
        """Reads the next chunk; False at the end of the member."""
        if self.eof:
            return False
        chunk = self.stream.read(CHUNK)
        if not chunk:
            self.eof = True
            return False
        self.buf.extend(chunk)
        return True

    def skip_space(self, pos: int) -> int:
        """The first position from ``pos`` on that is not whitespace (reading on as needed)."""
        buf = self.buf
        while True:
            while pos < len(buf) and buf[pos] in _WS:
                pos += 1
            if pos < len(buf) or not self.more():
                return pos

    def _start(self) -> bytes:
        """Reads up to the first record; the closing brace that ends each record."""
        buf = self.buf
        while (eq := buf.find(b"=")) < 0:  # the prefix: anything up to "=" (a BOM, any name)
            if len(buf) > 4096 or not self.more():
                raise _bad(self.member, "no 'window.YTD.… =' prefix")
        start = self.skip_space(eq + 1)
        if start >= len(buf) or buf[start] != ord("["):
            raise _bad(self.member, "no array after the '='")
        pos = self.skip_space(start + 1)
        gap = bytes(buf[start + 1 : pos])
        if b"\n" in gap:
            indent = gap[gap.rfind(b"\n") + 1 :]  # "[\n  {": records at this indentation
        else:  # "[ {": closing braces at the indentation of the line holding "["
            line = bytes(buf[buf.rfind(b"\n", 0, start) + 1 : start])
            indent = line[: len(line) - len(line.lstrip(b" \t"))]
        del buf[:pos]
        return b"\n" + indent + b"}"

    def batches(self) -> Iterator[list[Any]]:
        """The elements in lists of :data:`BATCH` bytes' worth; :class:`ArchiveError` when the file
        is not a data file (or is cut short), after the elements before the damage."""
        closing = self._start()
        buf = self.buf
        pos = 0
        while True:
            # A cut BATCH bytes on (reading on until there is one), else the last one there is.
            at = buf.find(closing, pos + BATCH)
            if at < 0:
                if not self.eof:
                    del buf[:pos]
                    pos = 0
                    self.more()
                    continue
                at = buf.rfind(closing, pos)
                if at < 0:
                    break
            end = at + len(closing)
            batch: list[Any]
            try:
                batch = orjson.loads(b"".join((b"[", memoryview(buf)[pos:end], b"]")))
            except orjson.JSONDecodeError:
                # Not records joined by commas: one at a time, as far as they can be cut.
                batch, pos = self._one_by_one(closing, pos, end)
                if pos < end:
                    yield batch
                    break  # not the layout guessed: what is left is decoded in one piece, below
            yield batch
            pos = self._after(end)
        # What is left: "]" alone, or (another layout) the rest of the array in one piece.
        while self.more():
            pass
        rest = bytes(buf[pos:]).strip(_WS + b";")
        if rest == b"]":
            return
        if not rest.endswith(b"]"):
            raise _bad(self.member, "the array is not closed: the file is cut short")
        value = _decode(self.member, b"[" + rest)
        if type(value) is not list:
            raise _bad(self.member, "not an array")
        yield value

    def _one_by_one(self, closing: bytes, pos: int, end: int) -> tuple[list[Any], int]:
        """The records from ``pos`` to ``end`` one at a time, up to the first that is no JSON;
        where they end (``end`` or further if all are)."""
        buf = self.buf
        records = []
        while pos < end:
            at = buf.find(closing, pos, end)
            if at < 0:
                break
            try:
                records.append(orjson.loads(memoryview(buf)[pos : at + len(closing)]))
            except orjson.JSONDecodeError:
                break
            pos = self._after(at + len(closing))
        return records, pos

    def _after(self, end: int) -> int:
        """Where the next record begins after one that ends at ``end``: past the comma."""
        pos = self.skip_space(end)
        if pos < len(self.buf) and self.buf[pos] == ord(","):
            pos += 1
        return pos
