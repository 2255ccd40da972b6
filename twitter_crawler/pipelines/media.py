"""Downloads the media of the import into the store, with Scrapy's FilesPipeline.

``TWITTER_MEDIA`` chooses what (a comma list of ``photos``, ``avatars``, ``videos``; default
``photos,avatars``; empty: nothing): tweet photos in their largest size (``name=orig``), the mp4
a Video item records (videos and GIFs), and profile pictures in their original size. Each
download becomes a ``File`` item (``externalId`` = ``sha256``, ``size``, ``mimeType``, ``url``)
with a ``file`` edge from its Photo or Video; an Account with an ``avatarUrl`` gets a Photo
(``externalId`` ``avatar:profile_images/…``) and a ``profilePicture`` edge to it. The bytes go to
the store with :meth:`~twitter_crawler.stores.base.Store.put_file` (a content-addressed folder
beside the SQLite file, or the Pod's ``upload_file``), in a thread.

Media never hold data back: an answer goes on to the store at once, its Photos and Videos
with it, and their downloads travel through the item pipelines as an item of their own
(:class:`~twitter_crawler.items.MediaDownloads`, sent with Scrapy's ``start_itemproc_async``),
which this pipeline turns into the File items and ``file`` edges once the bytes are stored. So
writes reach the store in the order of the crawl whatever the media do (a timeline's watermark
never before its tweets), and a crash leaves at worst a Photo without its file, which the next
run fetches (below).

Once: the store says which Photos and Videos have their file already (they are not downloaded
again), Scrapy's media pipeline fetches a URL once per crawl, and File items are keyed by
sha256, so the same bytes under two URLs are stored once. A download that fails (an HTTP error,
a timeout, a truncated body, over ``TWITTER_MEDIA_MAX_BYTES``) is one WARNING line and a count;
the Photo or Video is imported without its file, and the next run tries again: the store lists
stored media without a file (:class:`~twitter_crawler.stores.base.MediaState`), and
:class:`~twitter_crawler.spidermiddlewares.mediabacklog.MediaBacklogMiddleware` feeds them
through this pipeline.

Media requests are not API requests: they go to the media hosts unsigned (the OAuth middleware
signs only ``TWITTER_API_URL``), in their own downloader slot, at most
``TWITTER_MEDIA_CONCURRENCY`` at a time, so they never take the places of API requests.

Settings read: ``TWITTER_MEDIA``, ``TWITTER_MEDIA_CONCURRENCY``, ``TWITTER_MEDIA_MAX_BYTES``,
``TWITTER_MEDIA_RETRY_TIMES``, ``TWITTER_MEDIA_TIMEOUT``.

Stats: ``twitter/media/downloaded``, ``twitter/media/bytes``, ``twitter/media/known`` (stored
before, not fetched), ``twitter/media/failed``, ``twitter/media/failed/<reason>``,
``twitter/media/left_for_next_run`` (still queued when the crawl was stopped).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import mimetypes
from contextlib import suppress
from io import BytesIO
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from scrapy import Request, signals
from scrapy.exceptions import DontCloseSpider, DropItem, NotConfigured
from scrapy.http.request import NO_CALLBACK
from scrapy.pipelines.files import FilesPipeline
from scrapy.pipelines.media import FileException
from scrapy.utils.asyncio import run_in_thread

from twitter_crawler.closing import POLL, engine_closing, engine_wake
from twitter_crawler.items import (
    AVATAR_PREFIX,
    Answer,
    MediaDownloads,
    avatar_key,
    original_avatar_url,
)
from twitter_crawler.pipelines.store import store_opened
from twitter_crawler.settings.check import parse_kinds
from twitter_crawler.spidermiddlewares.mediabacklog import media_backlog_loaded
from twitter_crawler.stores.base import StoreError

if TYPE_CHECKING:
    from typing import Self

    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from scrapy.pipelines.media import (
        FileInfo,
        FileInfoOrError,
        MediaPipeline as ScrapyMediaPipeline,
    )
    from twisted.python.failure import Failure

    from twitter_crawler.stores.base import Store

logger = logging.getLogger(__name__)

SLOT = "twitter-media"
# Twitter's profile picture sizes are a suffix of the file name; without one it is the original.


def largest_photo_url(url: str) -> str:
    """The URL of a tweet photo in its original size (``name=orig``)."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != "name"]
    return urlunsplit(parts._replace(query=urlencode([*query, ("name", "orig")])))


class MediaFailed(FileException):
    """A download that cannot become a file; ``reason`` names it in the stats."""

    def __init__(self, what: str, reason: str) -> None:
        super().__init__(what)
        self.reason = reason


class StoreFiles:
    """Scrapy's files-store protocol over our store: ``persist_file`` calls ``put_file`` in a
    thread. The path is the sha256; a store knows where content-addressed bytes go."""

    def __init__(self) -> None:
        self.store: Store | None = None

    async def persist_file(self, path: str, buf: BytesIO, info: ScrapyMediaPipeline.SpiderInfo,
                           meta: dict[str, Any] | None = None,
                           headers: dict[str, str] | None = None) -> None:
        if self.store is None:
            raise FileException("no store is open to keep the file in")
        await run_in_thread(self.store.put_file, path.rpartition("/")[2], buf.getvalue())

    def stat_file(self, path: str, info: ScrapyMediaPipeline.SpiderInfo) -> dict[str, Any]:
        return {}  # what is stored is known from the store's items (MediaState), not by path


class MediaPipeline(FilesPipeline):
    MEDIA_NAME = "media file"
    # Scrapy would log the whole item (an Answer: hundreds of items) per failed download; our
    # media_failed/media_downloaded log one line per file instead.
    LOG_FAILED_RESULTS = False

    def __init__(self, crawler: Crawler, kinds: frozenset[str], *, concurrency: int,
                 max_bytes: int, retry_times: int, timeout: float) -> None:
        self.kinds = kinds
        self.max_bytes = max_bytes
        self.retry_times = retry_times
        self.timeout = timeout
        self._slots = asyncio.Semaphore(concurrency)
        self.files = StoreFiles()
        # (type, externalId) of media whose file is stored or on its way in this crawl.
        self.handled: set[tuple[str, str]] = set()
        self.avatar_edges: set[int] = set()  # hash((account, photo)) emitted in this crawl
        self.avatar_photos: set[tuple[str, str]] = set()  # avatar Photos emitted in this crawl
        self._in_progress = 0  # MediaDownloads items spawned and not done
        self._tasks: set[asyncio.Task[None]] = set()
        self.shas: set[str] = set()  # File items emitted in this crawl
        super().__init__("twitter-store", crawler=crawler)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        if getattr(crawler.spidercls, "offline", False):
            raise NotConfigured  # a spider that sends no API request (the archive import)
        s = crawler.settings
        # Checked at start-up (settings/check.py): a bad value never gets here.
        kinds = parse_kinds(s.get("TWITTER_MEDIA"))
        if not kinds:
            raise NotConfigured  # no media, as asked: no warning
        concurrency = s.getint("TWITTER_MEDIA_CONCURRENCY")
        pipeline = cls(crawler, kinds, concurrency=concurrency,
                       max_bytes=s.getint("TWITTER_MEDIA_MAX_BYTES"),
                       retry_times=s.getint("TWITTER_MEDIA_RETRY_TIMES"),
                       timeout=s.getfloat("TWITTER_MEDIA_TIMEOUT"))
        crawler.signals.connect(pipeline.store_opened, signal=store_opened)
        crawler.signals.connect(pipeline.spider_idle, signal=signals.spider_idle)
        return pipeline

    def _get_store(self, uri: str) -> StoreFiles:  # type: ignore[override]
        return self.files

    async def store_opened(self, store: Store) -> None:
        """The store pipeline opened the store: learn what it holds, hand on what it lacks."""
        self.files.store = store
        try:
            state = await run_in_thread(store.media_state)
        except StoreError as exc:
            logger.warning("Could not read which media files %(where)s has (%(error)s): files "
                           "of earlier runs that failed are not retried in this one",
                           {"where": store.describe(), "error": exc})
            return
        self.handled.update(state.done)
        pending = [item for item in state.pending if self._wanted(item)]
        await self.crawler.signals.send_catch_log_async(signal=media_backlog_loaded,
                                                        items=pending)

    def _wanted(self, item: dict[str, Any]) -> bool:
        kind = item["type"]
        if kind == "Account":
            return "avatars" in self.kinds and bool(item.get("avatarUrl"))
        if kind == "Video":
            return "videos" in self.kinds
        if kind == "Photo":
            avatar = str(item.get("externalId", "")).startswith(AVATAR_PREFIX)
            return ("avatars" if avatar else "photos") in self.kinds
        return False

    # -- what to download ----------------------------------------------------------------------

    # Scrapy's is ``async def process_item(self, item, spider=None)``: ours takes no spider
    # (deprecated in component methods) and returns an answer at once, without awaiting.
    def process_item(self, item: Any) -> Any:  # type: ignore[override]
        if self.files.store is None:
            return item  # no store pipeline: nowhere to keep files
        if isinstance(item, MediaDownloads):
            return self._download(item)
        # An answer never waits here for its files: it goes on to the store at once, in the order
        # the crawl made it (a watermark or a walk's end must not pass earlier pages held up by
        # slow media). Its files follow as an item of their own (MediaDownloads).
        answer = item if isinstance(item, Answer) else Answer([item])
        given = len(answer.items)
        if "avatars" in self.kinds:
            answer.items.extend(self._avatars(answer.items))
        self._spawn(self._to_fetch(answer.items))
        if answer.known:
            # Stored already: only what this pipeline made is new.
            del answer.items[:given]
            if not answer.items:
                raise DropItem("no new media item", log_level="DEBUG")
        if answer is not item and len(answer.items) == 1:
            return answer.items[0]  # a single item from elsewhere, and nothing added to it
        return answer

    def _to_fetch(self, items: list[Any]) -> list[dict[str, Any]]:
        """The Photos and Videos among ``items`` whose file is wanted and neither stored nor on
        its way; they are marked as on their way."""
        out = []
        for media in items:
            if not isinstance(media, dict) or media.get("type") not in ("Photo", "Video"):
                continue
            if not media.get("url") or not self._wanted(media):
                continue
            key = (media["type"], media["externalId"])
            if key in self.handled:
                self.crawler.stats.inc_value("twitter/media/known")
                continue
            self.handled.add(key)
            out.append(media)
        return out

    def _spawn(self, media: list[dict[str, Any]]) -> None:
        """Sends the downloads of ``media`` through the item pipelines as an item of their own,
        with no response: Scrapy counts it as an item in progress, so the crawl neither ends
        before the files nor holds the answer (or its response) while they download."""
        if not media:
            return
        self._in_progress += 1
        task = asyncio.ensure_future(self._run_downloads(MediaDownloads(media)))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run_downloads(self, work: MediaDownloads) -> None:
        try:
            await self.crawler.engine.scraper.start_itemproc_async(work, response=None)
        finally:
            self._in_progress -= 1
            engine_wake(self.crawler)

    def spider_idle(self) -> None:
        """Between spawning a download item and Scrapy counting it the crawl could look idle."""
        if self._in_progress:
            raise DontCloseSpider

    async def _download(self, work: MediaDownloads) -> Answer:
        """Downloads the files of ``work``; passes on their File items and ``file`` edges."""
        given = len(work.items)
        await super().process_item(work)
        added = work.items[given:]
        if not added:
            raise DropItem("no new media file", log_level="DEBUG")
        return Answer(added)

    def _avatars(self, items: list[Any]) -> list[dict[str, Any]]:
        """A Photo and a ``profilePicture`` edge for each account's profile picture."""
        out: list[dict[str, Any]] = []
        for item in items:
            if not isinstance(item, dict) or item.get("type") != "Account":
                continue
            url = item.get("avatarUrl")
            if not url:
                continue
            photo = {"type": "Photo", "externalId": avatar_key(url),
                     "url": original_avatar_url(url)}
            edge_key = hash((item["externalId"], photo["externalId"]))
            if edge_key in self.avatar_edges:
                continue
            self.avatar_edges.add(edge_key)
            # Default avatars are shared by many accounts: their Photo once per crawl.
            photo_key = ("Photo", photo["externalId"])
            if photo_key not in self.handled and photo_key not in self.avatar_photos:
                self.avatar_photos.add(photo_key)
                out.append(photo)
            out.append({"type": "Edge", "name": "profilePicture",
                        "source": {"type": "Account", "externalId": item["externalId"]},
                        "target": {"type": "Photo", "externalId": photo["externalId"]}})
        return out

    def get_media_requests(self, item: Any, info: ScrapyMediaPipeline.SpiderInfo) -> list[Request]:
        requests = []
        for media in item.items:  # chosen by _to_fetch: wanted, with a URL, asked for once
            key = (media["type"], media["externalId"])
            url = media["url"]
            if media["type"] == "Photo" and not key[1].startswith(AVATAR_PREFIX):
                url = largest_photo_url(url)
            requests.append(Request(url, callback=NO_CALLBACK, meta={
                "twitter_media": {"type": key[0], "externalId": key[1]},
                "download_slot": SLOT,
                "download_maxsize": self.max_bytes,
                "download_timeout": self.timeout,
                "max_retry_times": self.retry_times,
            }))
        return requests

    async def _check_media_to_download(self, request: Request, info: ScrapyMediaPipeline.SpiderInfo,
                                       item: Any) -> FileInfo:
        # Scrapy's download step, behind our own limit: a request waiting in a downloader slot
        # already counts against CONCURRENT_REQUESTS, and queued media would hold back the API.
        async with self._slots:
            if engine_closing(self.crawler):
                return self._left_for_next_run(request)
            download = asyncio.ensure_future(
                super()._check_media_to_download(request, info, item))
            while not download.done():
                await asyncio.wait({download}, timeout=POLL)
                if not download.done() and engine_closing(self.crawler):
                    # Ctrl-C must not wait out a slow file (the close waits for every request
                    # in flight): cancelling aborts the download's connection.
                    download.cancel()
                    with suppress(asyncio.CancelledError):
                        await download
                    return self._left_for_next_run(request)
            return download.result()

    def _left_for_next_run(self, request: Request) -> FileInfo:
        """The crawl is stopping (Ctrl-C, a fatal error): the file is not fetched now; the store
        lists its medium as still without a file, and the next run fetches it."""
        self.crawler.stats.inc_value("twitter/media/left_for_next_run")
        return {"url": request.url, "path": "", "checksum": "", "status": "stopped"}

    def media_to_download(self, request: Request, info: ScrapyMediaPipeline.SpiderInfo, *,
                          item: Any = None) -> None:
        return None  # what the store has was left out in get_media_requests

    # -- what came back ------------------------------------------------------------------------

    async def media_downloaded(self, response: Response, request: Request,
                               info: ScrapyMediaPipeline.SpiderInfo, *, item: Any = None) -> FileInfo:
        if response.status != 200:
            raise MediaFailed(f"HTTP {response.status}", f"http_{response.status}")
        if not response.body:
            raise MediaFailed("an empty body", "empty")
        file_info = await super().media_downloaded(response, request, info, item=item)
        content_type = (response.headers.get("Content-Type") or b"").decode("latin-1")
        file_info["media"] = request.meta["twitter_media"]  # type: ignore[typeddict-unknown-key]
        file_info["size"] = len(response.body)  # type: ignore[typeddict-unknown-key]
        file_info["mimeType"] = (  # type: ignore[typeddict-unknown-key]
            content_type.split(";")[0].strip() or mimetypes.guess_type(request.url)[0]
        )
        self.crawler.stats.inc_value("twitter/media/downloaded")
        self.crawler.stats.inc_value("twitter/media/bytes", len(response.body))
        return file_info

    def media_failed(self, failure: Failure, request: Request,
                     info: ScrapyMediaPipeline.SpiderInfo) -> Any:
        """Every failure of a media request ends here, once: one line, one count."""
        error = failure.value
        if isinstance(error, MediaFailed):
            what, reason = str(error), error.reason
        else:
            reason = type(error).__name__
            what = failure.getErrorMessage() or reason
            if "maxsize" in what or "max size" in what:
                reason, what = "too_large", f"larger than TWITTER_MEDIA_MAX_BYTES={self.max_bytes}"
        media = request.meta["twitter_media"]
        stats = self.crawler.stats
        stats.inc_value("twitter/media/failed")
        stats.inc_value(f"twitter/media/failed/{reason}")
        logger.warning(
            "Could not download the file of %(type)s %(id)s from %(url)s (%(what)s): imported "
            "without it; the next run tries again",
            {"type": media["type"], "id": media["externalId"], "url": request.url, "what": what},
        )
        raise FileException(reason)

    def file_path(self, request: Request, response: Response | None = None,
                  info: ScrapyMediaPipeline.SpiderInfo | None = None, *, item: Any = None) -> str:
        if response is None:
            return ""
        # Asked twice per file by FilesPipeline: hash the bytes once.
        sha = request.meta.get("twitter_sha256")
        if sha is None:
            sha = request.meta["twitter_sha256"] = hashlib.sha256(response.body).hexdigest()
        return f"{sha[:2]}/{sha}"

    async def file_downloaded(self, response: Response, request: Request,
                              info: ScrapyMediaPipeline.SpiderInfo, *, item: Any = None) -> str:
        path = self.file_path(request, response=response, info=info, item=item)
        try:
            await self.files.persist_file(path, BytesIO(response.body), info)
        except StoreError as exc:
            raise MediaFailed(f"the store did not take it: {exc}", "store") from None
        return path.rpartition("/")[2]

    def item_completed(self, results: list[FileInfoOrError], item: Any,
                       info: ScrapyMediaPipeline.SpiderInfo) -> Any:
        # Scrapy keeps every result of the crawl to answer a repeated URL; ``handled`` already
        # keeps us from asking twice, and at 100,000s of files that cache is memory for nothing.
        # (Requests in flight are answered through their own waiters, not from this cache.)
        info.downloaded.clear()
        added: list[dict[str, Any]] = []
        for ok, result in results:
            if not ok:
                continue  # failed: counted and logged by media_failed
            file_info = cast("dict[str, Any]", result)  # with media_downloaded's keys
            if "media" not in file_info:
                continue  # left for the next run
            sha: str = file_info["checksum"]
            if sha not in self.shas:  # the same bytes under another URL: one File, first URL
                self.shas.add(sha)
                added.append({"type": "File", "externalId": sha, "sha256": sha,
                              "size": file_info["size"], "mimeType": file_info["mimeType"],
                              "url": file_info["url"]})
            added.append({"type": "Edge", "name": "file", "source": file_info["media"],
                          "target": {"type": "File", "externalId": sha}})
        item.items.extend(added)
        return item
