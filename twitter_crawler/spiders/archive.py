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

The archive is read and parsed in a process of its own (:mod:`twitter_crawler.archive.worker`),
which hands over one batch at a time; the next batch is taken only once the pipelines have taken
the previous ones, so memory stays flat whatever the archive's size. The media files it finds
are kept by the store (in worker threads) before their File items are sent on.
``offline = True`` switches off what only API imports use (request
signing, the cost meter, media downloads).

Stats: ``twitter/archive/tweets``, ``twitter/archive/follower``, ``twitter/archive/following``,
``twitter/archive/likes``, ``twitter/archive/files`` (File items made), ``twitter/archive/file_bytes``,
``twitter/archive/files_missing`` (media whose file the archive lacks),
``twitter/archive/files_failed`` (files the store refused), ``twitter/archive/skipped`` (odd
records), ``twitter/archive/private_tweets`` (Circle tweets left out).
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from typing import TYPE_CHECKING, Any

from scrapy import Spider, signals
from scrapy.exceptions import CloseSpider
from scrapy.utils.asyncio import run_in_thread

from twitter_crawler.archive.worker import Chunk, Failure, NewFile, ReaderProcess
from twitter_crawler.items import Answer, File, PackedAnswer, ref, to_dict
from twitter_crawler.pipelines.store import store_opened
from twitter_crawler.spiders.arguments import parse_archive_arguments
from twitter_crawler.stores.base import StoreError

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from typing import Self

    from scrapy.crawler import Crawler

    from twitter_crawler.stores.base import Store

logger = logging.getLogger(__name__)

#: Answers in the item pipelines at once before the next batch is taken: memory stays flat.
IN_FLIGHT = 4
#: Batches read ahead of the pipelines.
READ_AHEAD = 2


class ArchiveSpider(Spider):
    name = "archive"
    #: Sends no request: request signing, the cost meter and media downloads stay off.
    offline = True
    custom_settings: dict[str, Any] | None = {  # noqa: RUF012 - Scrapy's own annotation
        # Nor is an HTTP download handler needed: loading Scrapy's took a tenth of an import's
        # start-up (its TLS module builds a deprecated class, which walks the call stack).
        "DOWNLOAD_HANDLERS": {"http": None, "https": None},
        # Nor are Scrapy's downloader middlewares: its retry middleware alone loads the HTTP
        # handler and its TLS module to know what errors to retry.
        "DOWNLOADER_MIDDLEWARES_BASE": {},
    }

    def __init__(self, path: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.path = parse_archive_arguments(path)
        self.store: Store | None = None
        self.progress_interval = 30.0
        self.dedupe_window = 200_000
        self.reader: ReaderProcess | None = None
        self._wake: asyncio.Future[None] | None = None  # a reference, or asyncio may drop it

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Self:
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.progress_interval = crawler.settings.getfloat("TWITTER_PROGRESS_INTERVAL")
        # The parser leaves out what it emitted before, as the dedupe pipeline would.
        spider.dedupe_window = crawler.settings.getint("TWITTER_DEDUPE_WINDOW")
        crawler.signals.connect(spider._store_opened, signal=store_opened)
        crawler.signals.connect(spider._closed, signal=signals.spider_closed)
        # Its interpreter starts while Scrapy and the store open (half a second or more).
        spider.reader = ReaderProcess(str(spider.path), window=spider.dedupe_window)
        return spider

    def _closed(self) -> None:
        if self.reader is not None:
            self.reader.close()
            self.reader = None

    def _store_opened(self, store: Store) -> None:
        self.store = store

    @staticmethod
    async def _read_ahead(reader: ReaderProcess,
                          ready: asyncio.Queue[Chunk | Failure | None]) -> None:
        """Puts the chunks in ``ready``, then ``None`` (or the failure that ends them)."""
        while True:
            message = await run_in_thread(reader.recv)
            await ready.put(message)
            if not isinstance(message, Chunk):
                return

    async def start(self) -> AsyncIterator[Any]:
        # (`scrapy crawl archive` checked the archive before Scrapy started; the reading process
        # opens it again and says so if it cannot.)
        reader = self.reader
        if reader is None:  # a spider made without from_crawler
            reader = self.reader = ReaderProcess(str(self.path), window=self.dedupe_window)
        reader.go(with_files=self.store is not None)
        # Scrapy's objects, made at start-up, live as long as the crawl: frozen, the cyclic GC no
        # longer walks them at each full collection, which the hundreds of thousands of dicts
        # unpickled here set off over and over (a fifth of this process's time).
        gc.freeze()
        importing = _Import(self)
        # Read ahead: the next chunks are read and parsed while the store writes the earlier
        # ones; at most READ_AHEAD wait here, so memory stays flat.
        ready: asyncio.Queue[Chunk | Failure | None] = asyncio.Queue(READ_AHEAD)
        receiving = asyncio.ensure_future(self._read_ahead(reader, ready))
        slot = self.crawler.engine.scraper.slot
        try:
            while (chunk := await ready.get()) is not None:
                if isinstance(chunk, Failure):
                    if chunk.kind == "crash":
                        raise RuntimeError(f"the archive's reading process failed:\n{chunk.message}")
                    if chunk.kind == "open":
                        logger.error("Cannot import the archive: %(error)s", {"error": chunk.message})
                        raise CloseSpider("archive_error")
                    logger.error("The archive stopped being readable: %(error)s. What was read "
                                 "before is stored; the own timeline's watermark is not moved.",
                                 {"error": chunk.message})
                    # The items already yielded first: Scrapy's scraper, closed while an item
                    # with no response is in the pipelines, never sees it end and never closes.
                    while slot is not None and slot.itemproc_size:  # noqa: ASYNC110
                        await asyncio.sleep(0.01)
                    raise CloseSpider("archive_error")
                extra = await importing.take(chunk)
                # Made as the store takes them, each new to the import (archive/parse.py): the
                # packed run goes on to the store undecoded.
                if chunk.packed is not None:
                    yield PackedAnswer(chunk.packed, extra)
                elif extra:
                    yield Answer(extra, distinct=True)
                # The next batch waits until the pipelines have taken the earlier ones.
                # (Scrapy's scraper slot has no event to wait for: a short poll.)
                while slot is not None and slot.itemproc_size > IN_FLIGHT:  # noqa: ASYNC110
                    await asyncio.sleep(0.002)
        finally:
            gc.unfreeze()
            self._closed()
            receiving.cancel()
            with suppress(asyncio.CancelledError):
                await receiving
            await run_in_thread(importing.close)
        importing.progress(force=True)
        self._wake = asyncio.ensure_future(self._end_promptly())

    async def _end_promptly(self) -> None:
        """Has the engine see at once that the import is done.

        A crawl fed by ``start()`` alone, with no request, is found idle at the engine's next
        heartbeat only (every 5 s in Scrapy 2.19): an import of a few tweets took 5 s more
        than its work. Once ``start()`` has ended and the last items have left the pipelines,
        the engine's next call (private: without it, the heartbeat still ends the crawl) is
        made now.
        """
        engine = self.crawler.engine
        slot = engine.scraper.slot
        while slot is not None and slot.itemproc_size:  # noqa: ASYNC110 (no event to wait for)
            await asyncio.sleep(0.01)
        nextcall = getattr(getattr(engine, "_slot", None), "nextcall", None)
        if nextcall is not None:
            nextcall.schedule()


class _Import:
    """The crawl's side of one import: stats, log lines and progress from the reading process,
    and the media files it found, kept by the store before their File items go on."""

    def __init__(self, spider: ArchiveSpider) -> None:
        self.spider = spider
        self.stats = spider.crawler.stats
        self.counts: dict[str, int] = {}
        self.expected: dict[str, int] = {}
        self.started = self.last_line = time.monotonic()
        self._writers: ThreadPoolExecutor | None = None  # as many threads as the store wants
        self.failed: set[str] = set()  # files the store refused

    async def take(self, chunk: Chunk) -> list[Any]:
        """The items of ``chunk`` to send on after its packed run, its files stored first."""
        for level, message, args in chunk.logs:
            logger.log(level, message, args)
        for name, value in chunk.stats.items():
            self.stats.set_value(name, value)
        self.counts, self.expected = chunk.counts, chunk.expected
        items: list[Any] = []
        if chunk.links:
            # One hand-over per chunk, not one per file: tens of thousands of files each waking
            # the reactor cost more than writing them.
            items = items + await run_in_thread(self._files, chunk)
        if chunk.tail:
            items = items + chunk.tail
        self.progress()
        return items

    def _files(self, chunk: Chunk) -> list[Any]:
        """The File items and ``file`` edges of ``chunk``, their bytes given to the store first
        (in a worker thread, with as many more as the store wants: ``Store.file_writers``), and
        a File item leaves only once its bytes are stored."""
        store = self.spider.store
        if store is None:
            return []
        files = chunk.files
        # Each writer takes a share of the chunk's files in one hand-over, not one per file: a
        # hand-over (a future, a lock, a wake-up) cost about as much CPU as writing a file.
        shares = min(store.file_writers, len(files))
        if shares > 1 and self._writers is None:
            self._writers = ThreadPoolExecutor(store.file_writers, thread_name_prefix="archive-files")
        errors: list[StoreError | None] = [None] * len(files)
        if shares > 1 and self._writers is not None:
            for future in [self._writers.submit(_put_files, store, files, errors, i, shares)
                           for i in range(shares)]:
                future.result()
        else:
            _put_files(store, files, errors, 0, 1)
        out: list[Any] = []
        for file, error in zip(files, errors, strict=True):
            if error is not None:
                self.failed.add(file.sha256)
                self.stats.inc_value("twitter/archive/files_failed")
                logger.warning("The store did not take the file %(sha)s (%(error)s): its media "
                               "are imported without it", {"sha": file.sha256, "error": error})
                continue
            self.stats.inc_value("twitter/archive/files")
            self.stats.inc_value("twitter/archive/file_bytes", len(file.data))
            out.append(to_dict(File(file.sha256, file.sha256, len(file.data), file.mime_type,
                                    file.url)))
        out += [{"type": "Edge", "name": "file", "source": media, "target": ref("File", sha)}
                for media, sha in chunk.links if sha not in self.failed]
        return out

    def progress(self, *, force: bool = False) -> None:
        now = time.monotonic()
        interval = self.spider.progress_interval
        if not force and (interval <= 0 or now - self.last_line < interval):
            return
        self.last_line = now
        parts = []
        for kind, label in (("tweets", "tweets"), ("follower", "followers"),
                            ("following", "followings"), ("like", "likes")):
            expected = self.expected.get(kind)
            done = self.counts.get(kind, 0)
            parts.append(f"{label} {done:,}/{expected:,}" if expected else f"{label} {done:,}")
        rate = self.counts.get("tweets", 0) / max(now - self.started, 1e-6)
        logger.info("Archive: %(parts)s · %(rate)s tweets/s",
                    {"parts": " · ".join(parts), "rate": f"{rate:,.0f}"})

    def close(self) -> None:
        if self._writers is not None:
            self._writers.shutdown(wait=True)


def _put_files(store: Store, files: list[NewFile], errors: list[StoreError | None], start: int,
               step: int) -> None:
    """Gives the store the files ``files[start::step]``; a refusal goes to ``errors`` at the
    file's index."""
    for i in range(start, len(files), step):
        file = files[i]
        try:
            store.put_file(file.sha256, file.data)
        except StoreError as exc:
            errors[i] = exc
