"""The media of the emulated world: a second listener that serves photos, videos and avatars.

Media get their own port because the crawler signs every request to the API's origin (scheme,
host and port) and must fetch media unsigned, as Twitter's CDN is fetched: on a separate origin a
signed media request is a visible mistake (400 here), not something the API would silently accept.

* **URLs.** With ``--media local`` every served payload (v1.1, v2, ground truth) names media on
  this listener: ``https://pbs.twimg.com/media/X.jpg`` becomes
  ``http://HOST:MEDIAPORT/pbs.twimg.com/media/X.jpg`` (the original host stays as the first path
  segment, so paths stay unique and recognisable). The rewrite works on serialized bytes
  (``MediaServer.rewrite``), so the synthetic and the recorded dataset, both API versions and the
  truth are rewritten by the same code. ``--media remote`` leaves the twimg URLs alone.
* **Files.** Bytes are a pure function of the path and Twitter's size selector (``?name=``,
  the legacy ``:size`` suffix, an avatar's ``_normal``-style suffix, a banner's ``/600x200``):
  valid tiny JPEG/PNG/GIF images whose comment carries a path-derived filler, so bigger sizes
  are longer files; mp4 files made of ``ftyp``/``free``/``mdat`` boxes; playlist texts. No image
  library is needed and a file costs microseconds (``MediaFiles`` caches the recent ones).
* **Shared URLs.** One account in ten has Twitter's default picture: one ``abs.twimg.com`` URL
  shared by all of them (world.py).
* **Shared bytes.** About a fifth of profile images are "the default avatar" and about one photo
  in twenty is one of three "memes": different URLs, identical bytes, so content-addressed
  deduplication has something to find (retweets already share their original's URLs).
* **Faults.** ``--media-faults RATE``: that share of media URLs (hash of seed and URL) fails on
  every GET, split evenly between a 404, a truncated body and a stall longer than
  ``--media-timeout-delay``; ``POST /_emulator/media`` changes the rate or seed at run time.
* **A slow or unreachable host.** ``--media-delay SECONDS``: every file answers that much later
  (a slow CDN); ``--media-unreachable``: the listener refuses connections, as a host that cannot
  be reached (the payloads still name it). Both change at run time with ``POST /_emulator/media``
  (``delay``, ``reachable``).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import re
import struct
import time
import zlib
from collections.abc import Iterable, Mapping
from contextlib import suppress
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import parse_qsl, unquote, urlsplit

from aiohttp import web

if TYPE_CHECKING:
    from twitter_emulator.server import RequestLog

logger = logging.getLogger(__name__)

RECORDINGS = Path(__file__).parent / "recordings"

#: The ways a faulty media URL fails, in the order the fault hash picks them.
FAULT_404 = "404"
FAULT_TRUNCATE = "truncate"
FAULT_TIMEOUT = "timeout"
FAULT_KINDS = (FAULT_404, FAULT_TRUNCATE, FAULT_TIMEOUT)

# File sizes in bytes (before a per-file jitter of 0-255 bytes that every size of a file shares):
# strictly increasing with the size Twitter would send, so "the largest" is checkable by length.
PHOTO_BYTES = {
    "120x120": 250, "thumb": 300, "240x240": 450, "360x360": 650, "small": 800, "900x900": 1200,
    "medium": 1600, "large": 3200, "orig": 5200,
}  # fmt: skip
#: 4096x4096 is "the original, at most 4096 px": the same file as orig for every image here.
PHOTO_ALIASES = {"4096x4096": "orig"}
PHOTO_DEFAULT = "medium"
#: Profile image suffixes; "" (no suffix) is the uploaded original, the largest.
AVATAR_BYTES = {"mini": 200, "normal": 400, "bigger": 600, "200x200": 1200, "400x400": 2400, "": 4000}
BANNER_BYTES = {
    "300x100": 500, "600x200": 1000, "mobile": 1000, "ipad": 1500, "web": 1800, "mobile_retina": 2000,
    "1080x360": 2600, "ipad_retina": 3000, "web_retina": 3600, "1500x500": 3800, "": 4000,
}  # fmt: skip
OTHER_BYTES = 1000
GIF_VIDEO_BYTES = 4000

CONTENT_TYPES = {
    "jpg": "image/jpeg", "jpeg": "image/jpeg", "png": "image/png", "gif": "image/gif",
    "mp4": "video/mp4", "m3u8": "application/x-mpegURL", "mpd": "application/dash+xml",
}  # fmt: skip
IMAGE_EXTS = frozenset(("jpg", "jpeg", "png", "gif"))

# Shares of files whose bytes are shared with other URLs (out of 256, from the path's hash).
DEFAULT_AVATAR_SHARE = 52  # ~20% of profile images
MEME_SHARE = 13  # ~5% of tweet photos
MEMES = 3

_B64 = r"[A-Za-z0-9_-]"
#: What the synthetic world's media look like (tweets.py, world.py, serialize.py): a path of one
#: of these shapes is "in the world". Checking the shape instead of the world's actual media keeps
#: a request cheap at 100,000 accounts.
SYNTHETIC_SHAPES = re.compile("|".join((
    rf"pbs\.twimg\.com/media/{_B64}{{15}}\.jpg",
    rf"pbs\.twimg\.com/tweet_video_thumb/{_B64}{{16}}\.jpg",
    rf"pbs\.twimg\.com/ext_tw_video_thumb/\d+/pu/img/{_B64}{{16}}\.jpg",
    rf"video\.twimg\.com/tweet_video/{_B64}{{16}}\.mp4",
    rf"video\.twimg\.com/ext_tw_video/\d+/pu/vid/\d+x\d+/{_B64}{{16}}\.mp4",
    rf"video\.twimg\.com/ext_tw_video/\d+/pu/pl/{_B64}{{16}}\.m3u8",
    r"pbs\.twimg\.com/profile_images/\d+/[A-Za-z0-9]{8}\.jpg",
    r"abs\.twimg\.com/sticky/default_profile_images/default_profile\.png",
    r"pbs\.twimg\.com/profile_banners/\d+/\d+",
    r"abs\.twimg\.com/images/themes/theme1/bg\.png",
)))  # fmt: skip
#: Twitter's media hosts. amp.twimg.com (in recorded links) serves web pages, not media: its URLs
#: are links and stay as they are.
MEDIA_HOSTS = ("pbs.twimg.com", "video.twimg.com", "abs.twimg.com", "ton.twimg.com")
_HOSTS = "|".join(re.escape(h) for h in MEDIA_HOSTS)
#: A media URL inside serialized JSON, with ``/`` or ``\/`` (recorded JSON may escape slashes).
TWIMG_URL = re.compile(rb"https?:(\\?/)\\?/(" + _HOSTS.encode() + rb")(?=\\?/)")
_RECORDED_URL = re.compile(r"https?://(" + _HOSTS + r")(/[^\"\s?#]*)")
_VIDEO_RESOLUTION = re.compile(r"/vid/(\d+)x(\d+)/")


# -- which file a path names -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MediaRef:
    """A media file as a request names it."""

    identity: str  # host/path of the file whatever size is asked, e.g. pbs.twimg.com/media/X.jpg
    size: str  # the normalised size selector ("" for an avatar's or banner's original)
    family: str  # photo | avatar | banner | video | playlist | other
    ext: str  # lower-case extension ("" for banners and extensionless paths)

    @property
    def key(self) -> str:
        """The file's identity at this size: the unit of faults and of the request registry."""
        return f"{self.identity}?name={self.size}" if self.size else self.identity


def parse_media_path(path: str, query: Mapping[str, str]) -> MediaRef | None:
    """The file a media-listener path names (``/pbs.twimg.com/media/X.jpg`` plus the query).

    Accepts Twitter's spellings of a photo size: ``X.jpg?name=orig``, ``X?format=jpg&name=orig``
    and the legacy ``X.jpg:orig``; an avatar's ``_normal``/``_bigger``/``_mini``/``_200x200``/
    ``_400x400`` suffix (none: the original); a banner's trailing ``/600x200``-style segment.
    None when the path cannot be a media file (unknown host, extension or size name)."""
    host, sep, rest = path.lstrip("/").partition("/")
    if not sep or not rest or host not in MEDIA_HOSTS:
        return None
    legacy = ""
    head, _, name = rest.rpartition("/")
    if ":" in name:
        name, _, legacy = name.partition(":")
        rest = f"{head}/{name}" if head else name
    stem, dot, ext = name.rpartition(".")
    ext = ext.lower() if dot else ""
    if not dot:
        stem = name
        fmt = query.get("format", "").lower()
        if fmt:
            ext = fmt
            rest += "." + fmt
    if ext and ext not in CONTENT_TYPES:
        return None
    if rest.startswith(("profile_images/", "sticky/default_profile_images/")):
        if legacy:
            return None
        size = next((s for s in AVATAR_BYTES if s and stem.endswith("_" + s)), "")
        if size:
            stem = stem.removesuffix("_" + size)
        base = f"{head}/{stem}"
        return MediaRef(f"{host}/{base}.{ext}" if ext else f"{host}/{base}", size, "avatar", ext)
    if rest.startswith("profile_banners/"):
        parts = rest.split("/")
        if legacy or ext or len(parts) not in (3, 4):
            return None
        size = parts[3] if len(parts) == 4 else ""
        if size not in BANNER_BYTES:
            return None
        return MediaRef(f"{host}/{'/'.join(parts[:3])}", size, "banner", "")
    if ext in IMAGE_EXTS or (not ext and host == "pbs.twimg.com"):
        size = legacy or query.get("name", "") or PHOTO_DEFAULT
        size = PHOTO_ALIASES.get(size, size)
        if size not in PHOTO_BYTES:
            return None
        return MediaRef(f"{host}/{rest}", size, "photo", ext)
    if legacy:
        return None
    family = "video" if ext == "mp4" else "playlist" if ext in ("m3u8", "mpd") else "other"
    return MediaRef(f"{host}/{rest}", "", family, ext)


class MediaCatalog(Protocol):
    """Which media files exist in the world being served."""

    def contains(self, ref: MediaRef) -> bool: ...


class SyntheticCatalog:
    """The synthetic world: every path of a shape its media have (see ``SYNTHETIC_SHAPES``)."""

    def contains(self, ref: MediaRef) -> bool:
        return SYNTHETIC_SHAPES.fullmatch(ref.identity) is not None


class RecordedCatalog:
    """The recorded dataset: the files named anywhere in the recordings, at any size."""

    def __init__(self, files: Iterable[Path] | None = None) -> None:
        self.identities: set[str] = set()
        for file in files if files is not None else sorted(RECORDINGS.glob("*/*.body.json")):
            text = file.read_text(encoding="utf-8").replace("\\/", "/")
            for host, path in _RECORDED_URL.findall(text):
                ref = parse_media_path(f"/{host}{unquote(path)}", {})
                if ref is not None:
                    self.identities.add(ref.identity)

    def contains(self, ref: MediaRef) -> bool:
        return ref.identity in self.identities


# -- the bytes of a file ------------------------------------------------------------------------


def _be16(n: int) -> bytes:
    return n.to_bytes(2, "big")


# A baseline 8x8 grayscale JPEG (one mid-grey block), with the smallest Huffman tables that can
# code it: DC category 0 and EOB are both the code "0", so the scan is the bits 00 padded with 1s.
_JPEG_HEAD = b"\xff\xd8" + b"\xff\xe0" + _be16(16) + b"JFIF\x00\x01\x01\x00" + _be16(1) + _be16(1) + b"\x00\x00"
_JPEG_TAIL = b"".join((
    b"\xff\xdb" + _be16(67) + b"\x00" + bytes([1] * 64),
    b"\xff\xc0" + _be16(11) + b"\x08" + _be16(8) + _be16(8) + b"\x01" + b"\x01\x11\x00",
    b"\xff\xc4" + _be16(20) + b"\x00" + bytes([1] + [0] * 15) + b"\x00",
    b"\xff\xc4" + _be16(20) + b"\x10" + bytes([1] + [0] * 15) + b"\x00",
    b"\xff\xda" + _be16(8) + b"\x01" + b"\x01\x00" + b"\x00\x3f\x00",
    b"\x3f",
    b"\xff\xd9",
))  # fmt: skip
_JPEG_COM_MAX = 65533


def jpeg(comment: bytes) -> bytes:
    """The tiny JPEG with ``comment`` in COM segments right after the JFIF header."""
    segments = [
        b"\xff\xfe" + _be16(len(chunk) + 2) + chunk
        for chunk in (comment[i:i + _JPEG_COM_MAX] for i in range(0, len(comment), _JPEG_COM_MAX))
    ]
    return _JPEG_HEAD + b"".join(segments) + _JPEG_TAIL


def _jpeg_overhead(n: int) -> int:
    return len(_JPEG_HEAD) + len(_JPEG_TAIL) + 4 * max(1, -(-n // _JPEG_COM_MAX))


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


_PNG_HEAD = b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", struct.pack(">IIBBBBB", 8, 8, 8, 0, 0, 0, 0))
_PNG_TAIL = _png_chunk(b"IDAT", zlib.compress((b"\x00" + b"\x80" * 8) * 8)) + _png_chunk(b"IEND", b"")
_PNG_TEXT_KEY = b"Comment\x00"


def png(comment: bytes) -> bytes:
    """An 8x8 grey PNG with ``comment`` (Latin-1 text) in a tEXt chunk."""
    return _PNG_HEAD + _png_chunk(b"tEXt", _PNG_TEXT_KEY + comment) + _PNG_TAIL


def _png_overhead(n: int) -> int:
    return len(_PNG_HEAD) + len(_PNG_TAIL) + 12 + len(_PNG_TEXT_KEY)


# A 1x1 GIF89a (two-colour table, one LZW-coded pixel) with a comment extension.
_GIF_HEAD = b"GIF89a" + struct.pack("<HHBBB", 1, 1, 0x80, 0, 0) + b"\x80\x80\x80\xff\xff\xff"
_GIF_TAIL = b"\x2c" + struct.pack("<HHHHB", 0, 0, 1, 1, 0) + b"\x02\x02\x44\x01\x00" + b"\x3b"


def gif(comment: bytes) -> bytes:
    blocks = b"".join(bytes([len(comment[i:i + 255])]) + comment[i:i + 255] for i in range(0, len(comment), 255))
    return _GIF_HEAD + b"\x21\xfe" + blocks + b"\x00" + _GIF_TAIL


def _gif_overhead(n: int) -> int:
    return len(_GIF_HEAD) + len(_GIF_TAIL) + 3 + max(1, -(-n // 255))


def _box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", 8 + len(payload)) + kind + payload


_MP4_FTYP = _box(b"ftyp", b"isom" + struct.pack(">I", 0x200) + b"isomiso2avc1mp41")


def mp4(label: bytes, filler: bytes) -> bytes:
    """An ISO BMFF file: ``ftyp``, then ``free`` (the label), then ``mdat`` (the filler)."""
    return _MP4_FTYP + _box(b"free", label) + _box(b"mdat", filler)


@dataclass(frozen=True, slots=True)
class MediaFile:
    body: bytes
    content_type: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.body).hexdigest()


def _digest(text: str) -> bytes:
    return hashlib.blake2b(text.encode(), digest_size=16).digest()


def content_id(ref: MediaRef) -> str:
    """Whose bytes a file has: its own, or a file shared on purpose by many URLs."""
    d = _digest(ref.identity)
    if ref.family == "avatar" and d[1] < DEFAULT_AVATAR_SHARE:
        return f"shared/default_profile_image.{ref.ext or 'jpg'}"
    if ref.family == "photo" and ref.identity.startswith("pbs.twimg.com/media/") and d[2] < MEME_SHARE:
        return f"shared/meme_{d[3] % MEMES}.{ref.ext or 'jpg'}"
    return ref.identity


def _target_size(ref: MediaRef) -> int:
    if ref.family == "photo":
        return PHOTO_BYTES[ref.size]
    if ref.family == "avatar":
        return AVATAR_BYTES[ref.size]
    if ref.family == "banner":
        return BANNER_BYTES[ref.size]
    if ref.family == "video":
        m = _VIDEO_RESOLUTION.search(ref.identity)
        return 1500 + int(m[1]) * int(m[2]) // 64 if m else GIF_VIDEO_BYTES
    return OTHER_BYTES


def _filler(label: bytes, n: int) -> bytes:
    if n <= 0:
        return b""
    unit = hashlib.sha256(label).hexdigest().encode()
    return (unit * (n // len(unit) + 1))[:n]


@lru_cache(maxsize=8192)
def _build(cid: str, size: str, family: str, ext: str, target: int) -> MediaFile:
    target += _digest(cid)[0]  # a per-file jitter that every size of the file shares
    label = f"twitter_crawler emulator media {cid} size={size or 'original'}\n".encode()
    if family == "video":
        overhead = len(_MP4_FTYP) + 16 + len(label)
        return MediaFile(mp4(label, _filler(label, target - overhead)), CONTENT_TYPES["mp4"])
    if ext == "m3u8":
        text = (f"#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:3\n#EXT-X-PLAYLIST-TYPE:VOD\n"
                f"# {label.decode().strip()}\n#EXT-X-ENDLIST\n")
        return MediaFile(text.encode(), CONTENT_TYPES["m3u8"])
    if ext == "mpd":
        text = (f'<?xml version="1.0" encoding="UTF-8"?>\n<!-- {label.decode().strip()} -->\n'
                f'<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static" '
                f'profiles="urn:mpeg:dash:profile:isoff-on-demand:2011" minBufferTime="PT1.5S"/>\n')
        return MediaFile(text.encode(), CONTENT_TYPES["mpd"])
    if ext == "png":
        return MediaFile(png(label + _filler(label, target - _png_overhead(target) - len(label))), "image/png")
    if ext == "gif":
        return MediaFile(gif(label + _filler(label, target - _gif_overhead(target) - len(label))), "image/gif")
    if ext in ("jpg", "jpeg") or family in ("photo", "avatar", "banner"):
        return MediaFile(jpeg(label + _filler(label, target - _jpeg_overhead(target) - len(label))), "image/jpeg")
    page = f"<!doctype html><title>{cid}</title><p>{label.decode().strip()}</p>\n"
    return MediaFile(page.encode(), "text/html; charset=utf-8")


def media_file(ref: MediaRef) -> MediaFile:
    """The bytes a media URL serves (cached: a benchmark fetches tens of thousands)."""
    return _build(content_id(ref), ref.size, ref.family, ref.ext, _target_size(ref))


# -- the listener ------------------------------------------------------------------------------


def _truthy(value: str | None) -> bool:
    return (value or "").lower() in ("1", "true", "yes", "on")


@dataclass
class MediaServer:
    """The media listener and its control endpoints (mounted on the API's app)."""

    catalog: MediaCatalog
    log: RequestLog
    mode: str = "local"  # local: payloads name this listener; remote: the original twimg URLs
    faults: float = 0.0
    seed: int = 0
    timeout_delay: float = 30.0
    delay: float = 0.0  # seconds every file takes (a slow host)
    reachable: bool = True  # False: the listener is closed (connections refused)
    base_url: str = ""  # http://HOST:PORT, known once bound
    # Media keys requested so far -> the first path+query that asked (for the failing list).
    requested: dict[str, str] = field(default_factory=dict)
    _replacement: bytes | None = field(default=None, init=False)
    _stopping: asyncio.Event = field(default_factory=asyncio.Event, init=False)
    _runner: web.AppRunner | None = field(default=None, init=False)
    _site: web.TCPSite | None = field(default=None, init=False)
    _host: str = field(default="", init=False)

    def bind(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")
        if self.mode == "local":
            hostport = self.base_url.removeprefix("http://").encode()
            self._replacement = rb"http:\g<1>\g<1>" + hostport.replace(b"\\", b"\\\\") + rb"\g<1>\g<2>"

    def rewrite(self, body: bytes) -> bytes:
        """Serialized JSON with every twimg URL pointing at this listener (``--media local``)."""
        if self._replacement is None or b"twimg.com" not in body:
            return body
        return TWIMG_URL.sub(self._replacement, body)

    async def attach(self, runner: web.AppRunner, site: web.TCPSite, host: str) -> None:
        """The bound listener, so that it can be closed and opened again (``reachable``)."""
        self._runner, self._site, self._host = runner, site, host
        if not self.reachable:
            await site.stop()

    async def set_reachable(self, reachable: bool) -> None:
        """Closes the listener (connections refused) or opens it again on the same port."""
        if reachable == self.reachable or self._runner is None or self._site is None:
            self.reachable = reachable
            return
        if reachable:
            port = int(self.base_url.rpartition(":")[2])
            self._site = web.TCPSite(self._runner, self._host, port)
            await self._site.start()
        else:
            await self._site.stop()
        self.reachable = reachable

    def stop(self) -> None:
        """Release the requests held by a timeout fault, so shutting down does not wait for them."""
        self._stopping.set()

    def fate(self, ref: MediaRef) -> str | None:
        """The fault a GET of this file meets now (None: served): a hash of seed and URL, so the
        same URLs fail in every run and a lower rate heals a subset of the failing ones."""
        if self.faults <= 0:
            return None
        d = hashlib.blake2b(f"{self.seed}\n{ref.key}".encode(), digest_size=16).digest()
        if int.from_bytes(d[:8], "big") / 2**64 >= self.faults:
            return None
        return FAULT_KINDS[int.from_bytes(d[8:], "big") % len(FAULT_KINDS)]

    def describe(self) -> dict[str, Any]:
        return {"base_url": self.base_url, "mode": self.mode, "faults": self.faults, "seed": self.seed,
                "timeout_delay": self.timeout_delay, "delay": self.delay, "reachable": self.reachable,
                "requested": len(self.requested)}

    def resolve(self, url: str) -> MediaRef | None:
        """The file a full media URL names: on this listener, or the original twimg URL."""
        parts = urlsplit(url)
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        if parts.netloc and f"{parts.scheme}://{parts.netloc}" == self.base_url:
            return parse_media_path(unquote(parts.path), query)
        if parts.hostname in MEDIA_HOSTS:
            return parse_media_path(f"/{parts.hostname}{unquote(parts.path)}", query)
        return None

    # -- the media listener --------------------------------------------------------------------

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self.handle)
        return app

    async def handle(self, request: web.Request) -> web.StreamResponse:
        signed = "Authorization" in request.headers
        entry: dict[str, Any] = {
            "time": time.time(), "method": request.method, "endpoint": "media", "path": request.path,
            "query": dict(request.query), "url": self.base_url + request.path_qs, "status": None,
            "token": None, "fault": None, "api": "media", "auth": None, "media": True,
            "authorization": signed, "bytes": 0,
        }
        if signed:
            return self._json(entry, 400, {
                "error": "media must not be signed: this request carries an Authorization header",
                "detail": "media URLs are fetched without credentials, like pbs.twimg.com and video.twimg.com",
            })
        if request.method not in ("GET", "HEAD"):
            return self._json(entry, 405, {"error": f"{request.method} is not allowed on media"})
        ref = parse_media_path(request.path, request.query)
        if ref is None or not self.catalog.contains(ref):
            return self._json(entry, 404, {"error": "no such media file", "path": request.path})
        self.requested.setdefault(ref.key, request.path_qs)
        file = media_file(ref)
        fault = self.fate(ref) if request.method == "GET" else None
        entry["fault"] = fault
        if self.delay > 0 and request.method == "GET":
            # A slow host: the answer comes late (shutting down releases it at once).
            with suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.delay)
        if fault == FAULT_404:
            return self._json(entry, 404, {"error": "no such media file", "path": request.path})
        if fault == FAULT_TIMEOUT:
            # Logged on arrival: the client gives up long before this request ends.
            self.log.add(entry)
            try:
                await asyncio.wait_for(self._stopping.wait(), self.timeout_delay)
            except TimeoutError:
                pass
            if request.transport is not None:
                request.transport.close()
            return web.Response(status=204)  # never reaches the client
        headers = {"Content-Type": file.content_type, "Cache-Control": "max-age=604800, must-revalidate"}
        if fault == FAULT_TRUNCATE:
            sent = file.body[: 1 + int.from_bytes(_digest(ref.key)[:4], "big") % (len(file.body) - 1)]
            entry.update(status=200, bytes=len(sent))
            self.log.add(entry)
            resp = web.StreamResponse(status=200, headers=headers)
            resp.content_length = len(file.body)
            await resp.prepare(request)
            await resp.write(sent)
            if request.transport is not None:
                request.transport.close()
            return resp
        entry.update(status=200, bytes=len(file.body) if request.method == "GET" else 0)
        self.log.add(entry)
        return web.Response(body=file.body, headers=headers)

    def _json(self, entry: dict[str, Any], status: int, payload: dict[str, Any]) -> web.Response:
        body = json.dumps(payload).encode()
        entry.update(status=status, bytes=len(body))
        self.log.add(entry)
        return web.Response(status=status, body=body, content_type="application/json")

    # -- control endpoints (on the API port) -----------------------------------------------------

    def add_control_routes(self, app: web.Application) -> None:
        app.router.add_get("/_emulator/media", self.handle_state)
        app.router.add_post("/_emulator/media", self.handle_update)
        app.router.add_get("/_emulator/media/sha256", self.handle_sha256)

    async def handle_state(self, request: web.Request) -> web.Response:
        out = self.describe()
        if _truthy(request.query.get("failing")):
            out["failing"] = [
                {"url": self.base_url + path_qs, "fault": fault}
                for path_qs in self.requested.values()
                if (ref := self.resolve(self.base_url + path_qs)) is not None and (fault := self.fate(ref))
            ]
        asked = request.query.getall("url", [])
        if asked:
            out["urls"] = []
            for url in asked:
                ref = self.resolve(url)
                exists = ref is not None and self.catalog.contains(ref)
                out["urls"].append({"url": url, "exists": exists,
                                    "fault": self.fate(ref) if exists and ref is not None else None})
        return web.json_response(out)

    async def handle_update(self, request: web.Request) -> web.Response:
        try:
            body = await request.json() if request.can_read_body else {}
            if not isinstance(body, dict):
                raise ValueError("expected a JSON object")
            unknown = set(body) - {"faults", "seed", "timeout_delay", "delay", "reachable"}
            if unknown:
                raise ValueError(f"unknown keys: {', '.join(sorted(unknown))}")
            faults = float(body.get("faults", self.faults))
            seed = int(body.get("seed", self.seed))
            delay = float(body.get("timeout_delay", self.timeout_delay))
            if not 0.0 <= faults <= 1.0:
                raise ValueError("faults must be between 0 and 1")
            if delay <= 0:
                raise ValueError("timeout_delay must be positive")
            slow = float(body.get("delay", self.delay))
            if slow < 0:
                raise ValueError("delay must be 0 or more")
            reachable = body.get("reachable", self.reachable)
            if not isinstance(reachable, bool):
                raise ValueError("reachable must be true or false")
        except (ValueError, TypeError) as err:
            return web.json_response({"error": str(err)}, status=400)
        self.faults, self.seed, self.timeout_delay, self.delay = faults, seed, delay, slow
        await self.set_reachable(reachable)
        logger.info("media faults %.3f seed %d timeout delay %.1fs delay %.1fs reachable %s",
                    faults, seed, delay, slow, reachable)
        return web.json_response({"ok": True, **self.describe()})

    async def handle_sha256(self, request: web.Request) -> web.Response:
        url = request.query.get("url", "")
        ref = self.resolve(url)
        if ref is None:
            return web.json_response({"error": f"not a media URL of this emulator: {url!r}"}, status=400)
        if not self.catalog.contains(ref):
            return web.json_response({"error": "no such media file", "url": url}, status=404)
        file = media_file(ref)
        return web.json_response({"url": url, "sha256": file.sha256, "size": len(file.body),
                                  "content_type": file.content_type, "fault": self.fate(ref)})

