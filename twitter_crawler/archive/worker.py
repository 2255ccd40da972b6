"""The archive import's reading process: reads and parses the archive, and hands the spider its
items in batches (:class:`Chunk`) through a pipe.

Parsing an archive is Python work from the first byte to the last (decompressing, decoding JSON,
making items): about as much as the rest of the import together. In the crawl process it shared
one GIL with Scrapy's reactor and the store's thread, and was slowed by them as much as it slowed
them; in a process of its own it runs on the other core beside the crawl, while the store's writer
process (``stores/sqlite.py``) takes turns with both. It imports no Scrapy component and never
touches the store: the media files it finds travel to the spider as bytes (:class:`NewFile`),
and the spider has the store keep them before it sends their File items on.

Logs and stats are the crawl's: this process records them in each chunk (:attr:`Chunk.logs`,
:attr:`Chunk.stats`) and the spider logs and sets them. The process ends at the pipe's end: a
crawl that stops (or is killed) closes it, and the next send fails.

The spider starts it with :class:`ReaderProcess`.
"""

from __future__ import annotations

import gc
import hashlib
import logging
import mimetypes
import traceback
from contextlib import suppress
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from twitter_crawler import spawn
from twitter_crawler.archive.parse import ArchiveParser, Item, Items, MediaFile
from twitter_crawler.archive.reader import Archive, ArchiveError
from twitter_crawler.fields import as_dict, as_id
from twitter_crawler.items import (
    Photo,
    TimelineWatermark,
    avatar_key,
    original_avatar_url,
    ref,
    to_dict,
)
from twitter_crawler.stores.base import Batch
from twitter_crawler.stores.records import EdgeRecord, ItemRecord, Packed, pack, read_batch

if TYPE_CHECKING:
    from collections.abc import Iterator
    from multiprocessing.connection import Connection

#: A reference to a Photo or Video: ``{"type": ..., "externalId": ...}``.
MediaRef = dict[str, str]

#: Tweets per chunk, and edges per chunk: one store batch or a few.
TWEETS_PER_CHUNK = 500
EDGES_PER_CHUNK = 2000
#: Media files the archive lacks that are named one by one in the log; the rest are counted.
MISSING_NAMED = 5


@dataclass(slots=True)
class NewFile:
    """A media file read from the archive, not sent before: the spider has the store keep it,
    then emits its File item."""

    sha256: str
    data: bytes
    mime_type: str | None
    url: str | None


@dataclass(slots=True)
class Chunk:
    """One batch of the import, in the order to store it: the items and edges of ``packed``
    (the form the store applies, :func:`~twitter_crawler.stores.records.pack`: the crawl hands
    them on undecoded), then the File items and ``file`` edges of ``files`` and ``links`` (those
    the store took), then ``tail`` (the own timeline's watermark, behind every tweet)."""

    packed: Packed | None
    files: list[NewFile] = field(default_factory=list)
    #: (media ref, sha256): a medium whose file is ``sha256`` (sent now or before).
    links: list[tuple[dict[str, str], str]] = field(default_factory=list)
    tail: list[Any] = field(default_factory=list)
    #: The import's stats so far (name → value), and what it has read out of what the manifest
    #: announces (kind → count), for the progress line.
    stats: dict[str, int] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    expected: dict[str, int] = field(default_factory=dict)
    #: Log records to emit in the crawl: (level, message, arguments).
    logs: list[tuple[int, str, dict[str, Any]]] = field(default_factory=list)


@dataclass(slots=True)
class Failure:
    """The archive cannot be opened (``open``), stopped being readable (``error``), or the
    reader failed (``crash``: a bug)."""

    kind: str
    message: str


class Reading:
    """One import of an archive: a generator of chunks (:class:`Chunk`)."""

    def __init__(self, archive: Archive, *, window: int, with_files: bool) -> None:
        self.archive = archive
        self.window = window
        self.with_files = with_files
        self.shas: set[str] = set()
        self.missing = 0
        self.stats: dict[str, int] = {}
        self.counts = {"tweets": 0, "follower": 0, "following": 0, "like": 0}
        self.expected: dict[str, int] = {}
        self.logs: list[tuple[int, str, dict[str, Any]]] = []
        # tweet id → its files in tweets_media/, for the media whose URL names no file there.
        self._by_tweet: dict[str, list[str]] | None = None

    def _chunk(self, items: list[Item] | Items, files: list[MediaFile] | None = None,
               tail: list[Any] | None = None) -> Chunk:
        """A chunk of ``items`` (dicts as :func:`~twitter_crawler.items.to_dict` makes them, or
        the parser's :class:`Items`), with the files of the media ``files`` and ``tail``."""
        made = items.records() if isinstance(items, Items) else _records(items)
        packed = pack(*made) if made[0] or made[1] else None
        chunk = Chunk(packed, tail=tail or [], stats=dict(self.stats), counts=dict(self.counts),
                      expected=self.expected, logs=self.logs)
        if files:
            self._file_work(chunk, [("tweets_media", f.names, f.tweet_id, f.url, f.media)
                                    for f in files])
            chunk.stats = dict(self.stats)
        self.logs = []
        return chunk

    def _warn(self, message: str, args: dict[str, Any]) -> None:
        self.logs.append((logging.WARNING, message, args))

    def _manifest_counts(self, manifest: dict[str, Any]) -> None:
        for kind, key in (("tweets", "tweets"), ("tweets", "tweet"), ("follower", "follower"),
                          ("following", "following"), ("like", "like")):
            files = as_dict(as_dict(manifest.get("dataTypes")).get(key)).get("files")
            if type(files) is list:
                total = sum(int(f["count"]) for f in files
                            if type(f) is dict and str(f.get("count", "")).isdigit())
                self.expected[kind] = self.expected.get(kind, 0) + total
        # The progress line and the summary show followers and followings out of these.
        self.stats["twitter/spider/known/followers"] = self.expected.get("follower", 0)
        self.stats["twitter/spider/known/following"] = self.expected.get("following", 0)

    # -- the chunks ----------------------------------------------------------------------------

    def chunks(self) -> Iterator[Chunk]:
        archive = self.archive
        manifest = archive.manifest()
        self._manifest_counts(manifest)
        user = as_dict(manifest.get("userInfo"))
        account = next((r for r in archive.records("account")), None)
        profile = next((r for r in archive.records("profile")), None)
        me = as_id(as_dict(account).get("accountId")) or as_id(user.get("accountId"))
        if me is None:
            raise ArchiveError(f"{archive.path} names no account id (data/account.js or "
                               "data/manifest.js): it is not an X archive, or not all of it")
        parser = ArchiveParser(me, window=self.window)
        for kind in ("twitter-circle-tweet", "twitter-circle-tweets"):
            for record in archive.records(kind):
                parser.private_ids.update(_ids_in(record))
        for record in archive.records("note-tweet"):
            parser.notes.add(record)

        owner = parser.owner(account, profile, user)
        yield self._avatar(owner)

        yield from self._tweets(parser)
        for kind in ("follower", "following", "like"):
            yield from self._edges(parser, kind)
        self.stats["twitter/archive/skipped"] = len(parser.skipped)
        for reason in parser.skipped[:MISSING_NAMED]:
            self._warn("Skipped in the archive: %(reason)s", {"reason": reason})
        if self.missing > MISSING_NAMED:
            self._warn("The archive lacks the files of %(n)d media in all (the first "
                       "%(named)d are named above): imported without them; an API import "
                       "with TWITTER_MEDIA set downloads them",
                       {"n": self.missing, "named": MISSING_NAMED})
        yield self._chunk([])

    def _edges(self, parser: ArchiveParser, kind: str) -> Iterator[Chunk]:
        """Follower, following or like edges (likes with their minimal Tweets), in chunks."""
        out: list[Any] = []
        stat = f"twitter/archive/{'likes' if kind == 'like' else kind}"
        for record in self.archive.records(kind):
            made: list[Any] = parser.like(record) if kind == "like" else [parser.contact(kind, record)]
            if made and made[0] is not None:
                out += made
                self.counts[kind] += 1
            if len(out) >= EDGES_PER_CHUNK:
                self.stats[stat] = self.counts[kind]
                yield self._chunk(out)
                out = []
        self.stats[stat] = self.counts[kind]
        if out:
            yield self._chunk(out)

    def _tweets(self, parser: ArchiveParser) -> Iterator[Chunk]:
        newest = 0
        private = 0
        c = Items()
        files: list[MediaFile] = []
        in_batch = 0
        for record in self.archive.records("tweets"):
            tid = parser.tweet(record, c, files)
            if tid is None:
                if as_id(as_dict(record).get("id_str")) in parser.private_ids:
                    private += 1
                continue
            newest = max(newest, int(tid))
            in_batch += 1
            if in_batch >= TWEETS_PER_CHUNK:
                self.counts["tweets"] += in_batch
                self.stats["twitter/archive/tweets"] = self.counts["tweets"]
                yield self._chunk(c, files)
                c, files, in_batch = Items(), [], 0
        self.counts["tweets"] += in_batch
        self.stats["twitter/archive/tweets"] = self.counts["tweets"]
        self.stats["twitter/archive/private_tweets"] = private
        # The own timeline is read: as complete as an API walk of it.
        self.stats["twitter/spider/timelines_complete"] = 1
        # Behind every tweet: the next API import asks only for newer ones.
        tail: list[Any] = [TimelineWatermark(parser.me, str(newest))] if newest else []
        yield self._chunk(c, files, tail)

    # -- media files ---------------------------------------------------------------------------

    def _member(self, folder: str, names: list[str], fallback_id: str | None,
                media: MediaRef) -> str | None:
        """Where the archive keeps a medium's file; ``None`` (and a counted warning) when it
        lacks it."""
        entries = self.archive.media.get(folder, {})
        member = next((entries[n] for n in names if n in entries), None)
        if member is None and fallback_id is not None:
            # The file's name can differ from the URL's (ARCHIVE_FORMAT.md §4): any of its tweet's.
            candidates = self._tweet_files().get(fallback_id, [])
            if len(candidates) == 1:
                member = entries[candidates[0]]
        if member is None:
            self.missing += 1
            self.stats["twitter/archive/files_missing"] = self.missing
            if self.missing <= MISSING_NAMED:
                self._warn("The archive has no file for %(type)s %(id)s (looked for "
                           "%(names)s): imported without it", {
                               "type": media["type"], "id": media["externalId"],
                               "names": ", ".join(names) or "nothing to look for"})
        return member

    def _file_work(self, chunk: Chunk,
                   wanted: list[tuple[str, list[str], str | None, str | None, MediaRef]]) -> None:
        """The files of media ``(folder, names, tweet id, url, ref)``: read, hashed, and those
        not sent before put in ``chunk``, with the link of every medium to its file."""
        if not self.with_files:
            return  # no store: nowhere to keep the bytes
        for folder, names, fallback_id, url, media in wanted:
            member = self._member(folder, names, fallback_id, media)
            if member is None:
                continue
            data = self.archive.read_file(member)
            sha = hashlib.sha256(data).hexdigest()
            chunk.links.append((media, sha))
            if sha not in self.shas:
                self.shas.add(sha)
                chunk.files.append(NewFile(sha, data, mimetypes.guess_type(member)[0], url))

    def _tweet_files(self) -> dict[str, list[str]]:
        if self._by_tweet is None:
            self._by_tweet = {}
            for name in self.archive.media.get("tweets_media", {}):
                self._by_tweet.setdefault(name.partition("-")[0], []).append(name)
        return self._by_tweet

    def _avatar(self, owner: Item) -> Chunk:
        """The owner, with the profile picture as the media pipeline makes it, and its file."""
        url = owner.get("avatarUrl")
        if not url:
            return self._chunk([owner])
        photo = to_dict(Photo(avatar_key(url), original_avatar_url(url)))
        media = ref("Photo", photo["externalId"])
        chunk = self._chunk([owner, photo, {
            "type": "Edge", "name": "profilePicture",
            "source": ref("Account", owner["externalId"]), "target": media}])
        name = url.split("?", 1)[0].rpartition("/")[2]
        self._file_work(chunk, [("profile_media", [f"{owner['externalId']}-{name}"], None, url,
                                 media)])
        chunk.stats = dict(self.stats)
        chunk.logs += self.logs
        self.logs = []
        return chunk


def _records(items: list[Item]) -> tuple[list[ItemRecord], list[EdgeRecord]]:
    """Dicts as :func:`~twitter_crawler.items.to_dict` makes them, as the store applies them."""
    records = read_batch(Batch(items=[i for i in items if i["type"] != "Edge"],
                               edges=[i for i in items if i["type"] == "Edge"]))
    return records.items, records.edges


def _ids_in(record: Any) -> Iterator[str]:
    """Every tweet id a Circle record names, whatever its shape."""
    if type(record) is dict:
        for key, value in record.items():
            if key in ("tweetId", "tweet_id", "id_str", "id") and type(value) is str:
                yield value
            else:
                yield from _ids_in(value)
    elif type(record) is list:
        for value in record:
            yield from _ids_in(value)


def serve(path: str, window: int, conn: Connection) -> None:
    """The reading process: once told to go (with whether to read the media files), every
    chunk, then ``None``; or a :class:`Failure`. Ends quietly when the crawl has gone (the pipe
    is closed)."""
    # What this process makes (records, items, chunks) is freed by reference counting once
    # sent; it holds no reference cycles, which are all the cyclic GC can free. Yet its
    # collections ran over and over while the records were decoded (tens of thousands of
    # containers a chunk): the start-up's objects are frozen out of its reach, and a collection
    # runs once 100,000 more containers are alive than freed, not every 700 (as the SQLite
    # writer does; 200,000 tweets: 9.4 s of CPU instead of 10.4 s, median of 3).
    gc.collect()
    gc.freeze()
    gc.set_threshold(100_000, 50, 100)
    with suppress(BrokenPipeError, EOFError, OSError, KeyboardInterrupt):
        with_files = conn.recv()
        if with_files is None:
            return  # the crawl ended before its start
        try:
            archive = Archive.open(path)
        except ArchiveError as exc:
            conn.send(Failure("open", str(exc)))
            return
        try:
            with archive:
                for chunk in Reading(archive, window=window, with_files=with_files).chunks():
                    conn.send(chunk)
            conn.send(None)
        except ArchiveError as exc:
            conn.send(Failure("error", str(exc)))
        except (BrokenPipeError, EOFError, KeyboardInterrupt):
            raise
        except Exception:  # noqa: BLE001 - a bug: the crawl reports it with its traceback
            conn.send(Failure("crash", traceback.format_exc()))
    with suppress(OSError):
        conn.close()


class ReaderProcess:
    """The spider's handle on the reading process (:mod:`twitter_crawler.spawn`).

    Started with the spider, so that the new interpreter starts while Scrapy and the store
    open; it reads nothing before :meth:`go`.
    """

    def __init__(self, path: str, *, window: int) -> None:
        self._conn, child = spawn.pipe()
        self._proc = spawn.start(serve, (path, window, child), "archive-reader")
        child.close()

    def go(self, *, with_files: bool) -> None:
        """Start reading; ``with_files``: read the media files too (there is a store to keep
        them)."""
        self._conn.send(with_files)

    def recv(self) -> Chunk | Failure | None:
        """The next chunk (blocking: call it in a thread); ``None`` at the end."""
        try:
            message: Chunk | Failure | None = self._conn.recv()
        except (EOFError, OSError):
            return Failure("crash", "the archive's reading process ended without a word "
                                    f"(exit code {self._proc.exitcode})")
        return message

    def close(self) -> None:
        """Stops the process (at once: what it read and did not send is read again next time)."""
        with suppress(OSError):
            self._conn.send(None)  # not started yet: it ends of itself
        self._conn.close()
        if self._proc.is_alive():
            self._proc.terminate()
        self._proc.join(10)
