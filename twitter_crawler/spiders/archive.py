"""The ``archive`` spider: imports X's "archive of your data", offline.

``scrapy crawl archive -a path=twitter-2026-…-<hex>.zip`` (the ZIP, or the folder it unpacks to)

It sends no request: its ``start()`` yields the archive's items, batched as
:class:`~twitter_crawler.items.Answer` items, so the same pipelines and stores as the API
import receive them (``POD_URL``: SQLite or a Pod), with the same externalIds. What it imports:

* the owner's Account (``isMe``) from ``account.js``, ``profile.js`` and the manifest, with its
  profile picture from ``profile_media/`` (a Photo and a ``profilePicture`` edge, as the media
  pipeline makes them);
* every tweet of ``tweets.js`` and its parts (:mod:`twitter_crawler.archive.parse`), long posts
  with their ``note-tweet.js`` text, their media with the files of ``tweets_media/`` as File
  items (bytes in the store's file area or the Pod, once per sha256);
* ``follower`` and ``following`` edges to the accounts the archive names by id;
* likes, as ``like`` edges from the owner to minimal Tweets;
* then the own timeline's watermark (the newest tweet id), behind every tweet, so that the next
  API import reads only what is newer.

Never read: ``deleted-tweets.js``, direct messages, IP logs, ad data, e-mail addresses and
phone numbers (only four fields of ``account.js`` are looked at), and the Circle tweets that
``twitter-circle-tweet.js`` lists are left out of the tweets.

The archive is read in a worker thread, one batch at a time, never on the reactor thread; the
next batch is read only once the pipelines have taken the previous ones, so memory stays flat
whatever the archive's size. ``offline = True`` switches off what only API imports use (request
signing, the cost meter, media downloads).

Stats: ``twitter/archive/tweets``, ``twitter/archive/follower``, ``twitter/archive/following``,
``twitter/archive/likes``, ``twitter/archive/files`` (File items made), ``twitter/archive/file_bytes``,
``twitter/archive/files_missing`` (media whose file the archive lacks),
``twitter/archive/files_failed`` (files the store refused), ``twitter/archive/skipped`` (odd
records), ``twitter/archive/private_tweets`` (Circle tweets left out).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import mimetypes
import time
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import suppress
from typing import TYPE_CHECKING, Any

from scrapy import Spider
from scrapy.exceptions import CloseSpider
from scrapy.utils.asyncio import run_in_thread

from twitter_crawler.api.common import as_dict, as_id
from twitter_crawler.archive.parse import ArchiveParser, Item, Items, MediaFile
from twitter_crawler.archive.reader import Archive, ArchiveError
from twitter_crawler.items import Answer, File, Photo, TimelineWatermark, ref, to_dict
from twitter_crawler.pipelines.media import avatar_key, original_avatar_url
from twitter_crawler.pipelines.store import store_opened
from twitter_crawler.spiders.arguments import parse_archive_arguments
from twitter_crawler.stores.base import StoreError

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator
    from typing import Self

    from scrapy.crawler import Crawler

    from twitter_crawler.stores.base import Store

logger = logging.getLogger(__name__)

#: Tweets per Answer, and edges per Answer: one store batch or a few.
TWEETS_PER_ANSWER = 500
EDGES_PER_ANSWER = 2000
#: Answers in the item pipelines at once before the next batch is read: memory stays flat.
IN_FLIGHT = 4
#: Batches read ahead of the pipelines.
READ_AHEAD = 2
#: Media files written to the store at once.
FILE_WRITERS = 4
#: Media files the archive lacks that are named one by one in the log; the rest are counted.
MISSING_NAMED = 5


class ArchiveSpider(Spider):
    name = "archive"
    #: Sends no request: request signing, the cost meter and media downloads stay off.
    offline = True

    def __init__(self, path: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.path = parse_archive_arguments(path)
        self.store: Store | None = None
        self.progress_interval = 30.0
        self.dedupe_window = 200_000

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Self:
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.progress_interval = crawler.settings.getfloat("TWITTER_PROGRESS_INTERVAL")
        # The parser leaves out what it emitted before, as the dedupe pipeline would.
        spider.dedupe_window = crawler.settings.getint("TWITTER_DEDUPE_WINDOW")
        crawler.signals.connect(spider._store_opened, signal=store_opened)
        return spider

    @staticmethod
    async def _read_ahead(batches: Iterator[list[Any]],
                          ready: asyncio.Queue[list[Any] | BaseException | None]) -> None:
        """Puts the batches in ``ready``, then ``None``; an error ends them."""
        try:
            while (items := await run_in_thread(next, batches, None)) is not None:
                await ready.put(items)
        except Exception as exc:  # noqa: BLE001 - handed to start(), which names or raises it
            await ready.put(exc)
            return
        await ready.put(None)

    def _store_opened(self, store: Store) -> None:
        self.store = store

    async def start(self) -> AsyncIterator[Any]:
        try:
            archive = await run_in_thread(Archive.open, self.path)
        except ArchiveError as exc:
            logger.error("Cannot import the archive: %(error)s", {"error": exc})
            raise CloseSpider("archive_error") from None
        reading = _Reading(self, archive)
        # Read ahead: the next batches are read and parsed in a thread while the store writes
        # the earlier ones (in its own thread); at most READ_AHEAD wait, so memory stays flat.
        ready: asyncio.Queue[list[Any] | BaseException | None] = asyncio.Queue(READ_AHEAD)
        reader = asyncio.ensure_future(self._read_ahead(reading.batches(), ready))
        slot = self.crawler.engine.scraper.slot
        try:
            while (items := await ready.get()) is not None:
                if isinstance(items, ArchiveError):
                    logger.error("The archive stopped being readable: %(error)s. What was read "
                                 "before is stored; the own timeline's watermark is not moved.",
                                 {"error": items})
                    # The items already yielded first: Scrapy's scraper, closed while an item
                    # with no response is in the pipelines, never sees it end and never closes.
                    while slot is not None and slot.itemproc_size:  # noqa: ASYNC110
                        await asyncio.sleep(0.01)
                    raise CloseSpider("archive_error")
                if isinstance(items, BaseException):
                    raise items
                # Made as the store takes them, each new to the import (archive/parse.py).
                yield Answer(items, distinct=True)
                # The next batch waits until the pipelines have taken the earlier ones.
                # (Scrapy's scraper slot has no event to wait for: a short poll.)
                while slot is not None and slot.itemproc_size > IN_FLIGHT:  # noqa: ASYNC110
                    await asyncio.sleep(0.002)
        finally:
            reader.cancel()
            with suppress(asyncio.CancelledError):
                await reader
            await run_in_thread(reading.close)
            await run_in_thread(archive.close)
        reading.finished()


class _Reading:
    """One import of an archive: a generator of batches of items, run in a worker thread."""

    def __init__(self, spider: ArchiveSpider, archive: Archive) -> None:
        self.spider = spider
        self.archive = archive
        self.stats = spider.crawler.stats
        self.shas: set[str] = set()
        self.missing = 0
        self.counts = {"tweets": 0, "follower": 0, "following": 0, "like": 0}
        self.expected: dict[str, int] = {}
        self.started = self.last_line = time.monotonic()
        # tweet id → its files in tweets_media/, for the media whose URL names no file there.
        self._by_tweet: dict[str, list[str]] | None = None
        self._writers = ThreadPoolExecutor(FILE_WRITERS, thread_name_prefix="archive-files")

    # -- progress ------------------------------------------------------------------------------

    def _manifest_counts(self, manifest: dict[str, Any]) -> None:
        for kind, key in (("tweets", "tweets"), ("tweets", "tweet"), ("follower", "follower"),
                          ("following", "following"), ("like", "like")):
            files = as_dict(as_dict(manifest.get("dataTypes")).get(key)).get("files")
            if type(files) is list:
                total = sum(int(f["count"]) for f in files
                            if type(f) is dict and str(f.get("count", "")).isdigit())
                self.expected[kind] = self.expected.get(kind, 0) + total
        # The progress line and the summary show followers and followings out of these.
        self.stats.set_value("twitter/spider/known/followers", self.expected.get("follower", 0))
        self.stats.set_value("twitter/spider/known/following", self.expected.get("following", 0))

    def _progress(self, force: bool = False) -> None:
        now = time.monotonic()
        interval = self.spider.progress_interval
        if not force and (interval <= 0 or now - self.last_line < interval):
            return
        self.last_line = now
        parts = []
        for kind, label in (("tweets", "tweets"), ("follower", "followers"),
                            ("following", "followings"), ("like", "likes")):
            expected = self.expected.get(kind)
            done = self.counts[kind]
            parts.append(f"{label} {done:,}/{expected:,}" if expected else f"{label} {done:,}")
        rate = self.counts["tweets"] / max(now - self.started, 1e-6)
        logger.info("Archive: %(parts)s · %(rate)s tweets/s",
                    {"parts": " · ".join(parts), "rate": f"{rate:,.0f}"})

    # -- the batches ---------------------------------------------------------------------------

    def batches(self) -> Iterator[list[Any]]:
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
        parser = ArchiveParser(me, window=self.spider.dedupe_window)
        for kind in ("twitter-circle-tweet", "twitter-circle-tweets"):
            for record in archive.records(kind):
                parser.private_ids.update(_ids_in(record))
        for record in archive.records("note-tweet"):
            parser.notes.add(record)

        owner = parser.owner(account, profile, user)
        yield [owner, *self._avatar(owner)]

        yield from self._tweets(parser)
        for kind in ("follower", "following", "like"):
            yield from self._edges(parser, kind)
        self.stats.set_value("twitter/archive/skipped", len(parser.skipped))
        for reason in parser.skipped[:MISSING_NAMED]:
            logger.warning("Skipped in the archive: %(reason)s", {"reason": reason})

    def _edges(self, parser: ArchiveParser, kind: str) -> Iterator[list[Any]]:
        """Follower, following or like edges (likes with their minimal Tweets), in batches."""
        out: list[Any] = []
        for record in self.archive.records(kind):
            made: list[Any] = parser.like(record) if kind == "like" else [parser.contact(kind, record)]
            if made and made[0] is not None:
                out += made
                self.counts[kind] += 1
            if len(out) >= EDGES_PER_ANSWER:
                yield out
                out = []
                self._progress()
        if out:
            yield out
        self.stats.set_value(f"twitter/archive/{'likes' if kind == 'like' else kind}",
                             self.counts[kind])

    def _tweets(self, parser: ArchiveParser) -> Iterator[list[Any]]:
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
            if in_batch >= TWEETS_PER_ANSWER:
                yield c.items() + self._files(files)
                self.counts["tweets"] += in_batch
                c, files, in_batch = Items(), [], 0
                self._progress()
        self.counts["tweets"] += in_batch
        items = c.items() + self._files(files)
        if newest:
            # Behind every tweet: the next API import asks only for newer ones.
            items.append(TimelineWatermark(parser.me, str(newest)))
        if items:
            yield items
        self.stats.set_value("twitter/archive/tweets", self.counts["tweets"])
        self.stats.set_value("twitter/archive/private_tweets", private)
        # The own timeline is read: as complete as an API walk of it.
        self.stats.set_value("twitter/spider/timelines_complete", 1)

    # -- media files ---------------------------------------------------------------------------

    def _member(self, folder: str, names: list[str], fallback_id: str | None,
                media: dict[str, str]) -> str | None:
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
            self.stats.inc_value("twitter/archive/files_missing")
            if self.missing <= MISSING_NAMED:
                logger.warning("The archive has no file for %(type)s %(id)s (looked for "
                               "%(names)s): imported without it", {
                                   "type": media["type"], "id": media["externalId"],
                                   "names": ", ".join(names) or "nothing to look for"})
        return member

    def _file_items(self, wanted: list[tuple[str, list[str], str | None, str | None,
                                             dict[str, str]]]) -> list[Any]:
        """The File items and ``file`` edges of media ``(folder, names, tweet id, url, ref)``,
        their bytes given to the store first: the writes run side by side (disk time, not
        Python's), and a File item leaves only once its bytes are stored."""
        store = self.spider.store
        if store is None:
            return []  # no store pipeline: nowhere to keep the bytes
        found: list[tuple[dict[str, str], str]] = []
        writes: dict[str, tuple[Future[None], Item]] = {}
        for folder, names, fallback_id, url, media in wanted:
            member = self._member(folder, names, fallback_id, media)
            if member is None:
                continue
            data = self.archive.read_file(member)
            sha = hashlib.sha256(data).hexdigest()
            found.append((media, sha))
            if sha not in self.shas and sha not in writes:
                writes[sha] = (self._writers.submit(store.put_file, sha, data),
                               _file(sha, len(data), mimetypes.guess_type(member)[0], url))
        out: list[Any] = []
        failed: set[str] = set()
        for sha, (future, item) in writes.items():
            try:
                future.result()
            except StoreError as exc:
                failed.add(sha)
                self.stats.inc_value("twitter/archive/files_failed")
                logger.warning("The store did not take the file %(sha)s (%(error)s): its media "
                               "are imported without it", {"sha": sha, "error": exc})
                continue
            self.shas.add(sha)
            self.stats.inc_value("twitter/archive/files")
            self.stats.inc_value("twitter/archive/file_bytes", item["size"])
            out.append(item)
        out += [{"type": "Edge", "name": "file", "source": media, "target": ref("File", sha)}
                for media, sha in found if sha not in failed]
        return out

    def close(self) -> None:
        self._writers.shutdown(wait=True)

    def _tweet_files(self) -> dict[str, list[str]]:
        if self._by_tweet is None:
            self._by_tweet = {}
            for name in self.archive.media.get("tweets_media", {}):
                self._by_tweet.setdefault(name.partition("-")[0], []).append(name)
        return self._by_tweet

    def _files(self, files: list[MediaFile]) -> list[Any]:
        return self._file_items([("tweets_media", f.names, f.tweet_id, f.url, f.media)
                                 for f in files])

    def _avatar(self, owner: Item) -> list[Any]:
        """The profile picture, as the media pipeline makes it, with its file."""
        url = owner.get("avatarUrl")
        if not url:
            return []
        photo = to_dict(Photo(avatar_key(url), original_avatar_url(url)))
        media = ref("Photo", photo["externalId"])
        out: list[Any] = [photo, {"type": "Edge", "name": "profilePicture",
                                  "source": ref("Account", owner["externalId"]), "target": media}]
        name = url.split("?", 1)[0].rpartition("/")[2]
        out += self._file_items([("profile_media", [f"{owner['externalId']}-{name}"], None, url,
                                  media)])
        return out

    def finished(self) -> None:
        self._progress(force=True)
        if self.missing > MISSING_NAMED:
            logger.warning("The archive lacks the files of %(n)d media in all (the first "
                           "%(named)d are named above): imported without them; an API import "
                           "with TWITTER_MEDIA set downloads them", {"n": self.missing,
                                                                     "named": MISSING_NAMED})


def _file(sha: str, size: int, mime: str | None, url: str | None) -> Item:
    """A File item, as :func:`~twitter_crawler.items.to_dict` makes it."""
    return to_dict(File(sha, sha, size, mime, url))


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
