"""The media listener: local media URLs everywhere, deterministic files, faults, the log.

Real emulator processes over real HTTP. The file checks below parse the formats by hand
(JPEG markers, PNG chunks and CRCs, ISO BMFF boxes): the emulator must not need an image
library, and neither do its tests.
"""

from __future__ import annotations

import hashlib
import json
import re
import struct
import time
import zlib
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests.emulator.conftest import Client, oauth, running
from tests.emulator.test_v2_client import V2Client
from tests.support.servers import ServerProcess
from twitter_emulator.media import MediaServer, SyntheticCatalog
from twitter_emulator.server import RequestLog

WORLD = (
    "--followers", "60", "--followings", "20", "--tweets", "150", "--following-tweets", "6",
    "--seed", "7", "--quotas", "off", "--photo-share", "0.4", "--video-share", "0.1", "--gif-share", "0.1",
)
V2_FIELDS = {
    "tweet.fields": "attachments,author_id,entities,referenced_tweets",
    "expansions": "attachments.media_keys,author_id,referenced_tweets.id,referenced_tweets.id.author_id",
    "media.fields": "media_key,type,url,preview_image_url,variants,width,height",
    "user.fields": "profile_image_url,profile_banner_url,entities,url",
}
TWIMG = re.compile(r"https?://(pbs|video|abs|ton)\.twimg\.com/")
#: A media URL, original (https://pbs.twimg.com/...) or local (http://HOST:PORT/pbs.twimg.com/...).
MEDIA_URL = re.compile(r"https?://([^/]+/)?(pbs|video|abs|ton)\.twimg\.com/")


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    with running(*WORLD) as s:
        yield s


@pytest.fixture()
def session() -> Iterator[requests.Session]:
    s = requests.Session()
    yield s
    s.close()


def media_base(server: ServerProcess) -> str:
    return server.get_json("/_emulator/world")["media"]["base_url"]


def twimg_strings(obj: Any) -> list[str]:
    """Every URL in a JSON document on a twimg media host (original or rewritten); amp.twimg.com
    serves web pages, and display_url texts are not URLs."""
    if isinstance(obj, dict):
        return [s for v in obj.values() for s in twimg_strings(v)]
    if isinstance(obj, list):
        return [s for v in obj for s in twimg_strings(v)]
    return [obj] if isinstance(obj, str) and MEDIA_URL.match(obj) else []


def truth(server: ServerProcess, api: str = "1.1") -> list[dict[str, Any]]:
    return server.get_json(f"/_emulator/truth?api={api}")["items"]


def of_type(items: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [d for d in items if d["type"] == kind]


def log_since(server: ServerProcess, seq: int) -> list[dict[str, Any]]:
    return server.get_json(f"/_emulator/log?since={seq}")["requests"]


def last_seq(server: ServerProcess) -> int:
    return server.get_json(f"/_emulator/log?since={2**62}")["last_seq"]


def sha_of(session: requests.Session, server: ServerProcess, url: str) -> dict[str, Any]:
    r = session.get(f"{server.url}/_emulator/media/sha256", params={"url": url}, timeout=30)
    assert r.status_code == 200, r.text
    return r.json()


# -- format checks -------------------------------------------------------------------------------


def jpeg_segments(data: bytes) -> dict[int, list[bytes]]:
    """Marker -> segment payloads up to SOS; the scan must run to EOI with only stuffed 0xFF bytes."""
    assert data[:2] == b"\xff\xd8" and data[-2:] == b"\xff\xd9"
    segments: dict[int, list[bytes]] = {}
    i = 2
    while True:
        assert data[i] == 0xFF, f"no marker at {i}"
        marker = data[i + 1]
        length = int.from_bytes(data[i + 2:i + 4], "big")
        segments.setdefault(marker, []).append(data[i + 4:i + 2 + length])
        i += 2 + length
        if marker == 0xDA:
            break
    scan = data[i:-2]
    assert scan and b"\xff" not in scan.replace(b"\xff\x00", b"")
    sof = segments[0xC0][0]
    precision, height, width, components = struct.unpack(">BHHB", sof[:6])
    assert precision == 8 and height > 0 and width > 0 and components in (1, 3)
    assert 0xDB in segments and len(segments[0xC4]) >= 2 and 0xFE in segments
    return segments


def png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    chunks: list[tuple[bytes, bytes]] = []
    i = 8
    while i < len(data):
        n = int.from_bytes(data[i:i + 4], "big")
        kind, body = data[i + 4:i + 8], data[i + 8:i + 8 + n]
        assert zlib.crc32(kind + body) == int.from_bytes(data[i + 8 + n:i + 12 + n], "big"), kind
        chunks.append((kind, body))
        i += 12 + n
    assert i == len(data) and chunks[0][0] == b"IHDR" and chunks[-1] == (b"IEND", b"")
    width, height, depth, color = struct.unpack(">IIBB", chunks[0][1][:10])
    assert (depth, color) == (8, 0)
    raw = zlib.decompress(b"".join(body for kind, body in chunks if kind == b"IDAT"))
    assert len(raw) == height * (1 + width)
    return chunks


def mp4_boxes(data: bytes) -> list[bytes]:
    kinds: list[bytes] = []
    i = 0
    while i < len(data):
        size = int.from_bytes(data[i:i + 4], "big")
        assert size >= 8
        kinds.append(data[i + 4:i + 8])
        i += size
    assert i == len(data)
    assert kinds[0] == b"ftyp" and data[8:12] == b"isom"
    return kinds


def check_file(response: requests.Response) -> None:
    """The body is a well-formed file of the announced type and length."""
    body = response.content
    assert int(response.headers["Content-Length"]) == len(body)
    ctype = response.headers["Content-Type"]
    if ctype == "image/jpeg":
        jpeg_segments(body)
    elif ctype == "image/png":
        png_chunks(body)
    elif ctype == "image/gif":
        assert body[:6] == b"GIF89a" and body[-1:] == b";"
    elif ctype == "video/mp4":
        mp4_boxes(body)
    elif ctype == "application/x-mpegURL":
        assert body.startswith(b"#EXTM3U\n")
    else:
        assert ctype == "application/dash+xml" and b"<MPD" in body, ctype


def expected_type(url: str) -> str:
    path = url.split("?")[0].lower()
    for ext, ctype in ((".png", "image/png"), (".gif", "image/gif"), (".mp4", "video/mp4"),
                       (".m3u8", "application/x-mpegURL"), (".mpd", "application/dash+xml")):
        if path.endswith(ext):
            return ctype
    return "image/jpeg"


# -- URLs ----------------------------------------------------------------------------------------


def test_every_media_url_points_at_the_media_listener(server: ServerProcess, session: requests.Session) -> None:
    base = media_base(server)
    assert base.startswith("http://127.0.0.1:") and base != server.url
    client = Client(server.url)
    alice = client.get("users/show", screen_name="alice").json()
    timeline = client.get("statuses/user_timeline", screen_name="alice", count=200, tweet_mode="extended").json()
    followers = client.get("followers/list", screen_name="alice", count=200).json()
    client.close()
    with V2Client(server.url) as v2:
        v2_tweets = v2.get(f"users/{alice['id_str']}/tweets", max_results=100, **V2_FIELDS).json()
        v2_user = v2.get("users/by/username/alice", **{"user.fields": V2_FIELDS["user.fields"]}).json()
    payloads = [alice, timeline, followers, v2_tweets, v2_user, truth(server), truth(server, "2")]
    urls = [u for p in payloads for u in twimg_strings(p)]
    assert urls and all(u.startswith(base + "/") for u in urls), [u for u in urls if not u.startswith(base)][:5]
    paths = {u.removeprefix(base) for u in urls}
    # every kind of media the world has, under its original host as the first path segment
    for shape in (r"/pbs\.twimg\.com/media/[\w-]{15}\.jpg", r"/pbs\.twimg\.com/profile_images/\d+/\w{8}_normal\.jpg",
                  r"/pbs\.twimg\.com/profile_banners/\d+/\d+", r"/abs\.twimg\.com/images/themes/theme1/bg\.png",
                  r"/pbs\.twimg\.com/tweet_video_thumb/[\w-]+\.jpg", r"/video\.twimg\.com/tweet_video/[\w-]+\.mp4",
                  r"/pbs\.twimg\.com/ext_tw_video_thumb/\d+/pu/img/[\w-]+\.jpg",
                  r"/video\.twimg\.com/ext_tw_video/\d+/pu/vid/\d+x\d+/[\w-]+\.mp4\?tag=12",
                  r"/video\.twimg\.com/ext_tw_video/\d+/pu/pl/[\w-]+\.m3u8\?tag=12"):
        assert any(re.fullmatch(shape, p) for p in paths), shape
    # v1.1's http media_url names the same local file as media_url_https
    media = [m for t in timeline for m in t.get("extended_entities", {}).get("media", [])]
    assert media and all(m["media_url"] == m["media_url_https"] for m in media)
    assert all(u["profile_image_url"] == u["profile_image_url_https"] for u in followers["users"])
    # v2 names the same tweet media files as v1.1
    v2_media = set(twimg_strings(v2_tweets["includes"]["media"]))
    assert v2_media and v2_media <= set(twimg_strings(timeline))
    for url in sorted(set(urls)):
        r = session.get(url, timeout=30)
        assert r.status_code == 200, url
        assert r.headers["Content-Type"] == expected_type(url), url
        check_file(r)


def test_recorded_payloads_name_local_media(session: requests.Session) -> None:
    with running("--dataset", "recorded", "--quotas", "off") as server:
        base = media_base(server)
        client = Client(server.url)
        raw = [client.get("users/show", screen_name="jack").content,
               client.get("statuses/user_timeline", screen_name="jack", count=200).content,
               client.get("followers/list", screen_name="jack", count=200).content]
        client.close()
        with V2Client(server.url) as v2:
            raw.append(v2.get("users/by/username/Twitter").content)
            twitter_id = v2.get("users/by/username/Twitter").json()["data"]["id"]
            raw.append(v2.get(f"users/{twitter_id}/tweets").content)
            raw.append(v2.get(f"users/{twitter_id}/followers").content)
        for body in raw:
            assert not TWIMG.search(body.decode())
        urls = sorted({u for body in raw for u in twimg_strings(json.loads(body))})
        assert len(urls) > 100 and all(u.startswith(base + "/") for u in urls)
        # recorded avatars come as jpg, jpeg, png and gif, banners without an extension
        assert {expected_type(u) for u in urls} >= {"image/jpeg", "image/png", "image/gif", "video/mp4"}
        for url in urls:
            r = session.get(url, timeout=30)
            assert r.status_code == 200 and r.headers["Content-Type"] == expected_type(url), url
            check_file(r)
        # sizes the recordings never name are served too; files they never name are not
        avatar = next(u for u in urls if "/profile_images/" in u and "_normal." in u)
        assert session.get(avatar.replace("_normal.", "_400x400."), timeout=30).status_code == 200
        assert session.get(avatar.replace("_normal.", "."), timeout=30).status_code == 200
        assert session.get(f"{base}/pbs.twimg.com/media/NotRecordedAtAll.jpg", timeout=30).status_code == 404


def test_escaped_slashes_are_rewritten_too() -> None:
    media = MediaServer(SyntheticCatalog(), RequestLog())
    media.bind("http://127.0.0.1:9")
    body = (b'{"a":"https:\\/\\/pbs.twimg.com\\/media\\/X.jpg","b":"http://abs.twimg.com/images/x.png",'
            b'"c":"https://video.twimg.com/tweet_video/Y.mp4","d":"https://twimg.com.example/x"}')
    assert media.rewrite(body) == (
        b'{"a":"http:\\/\\/127.0.0.1:9\\/pbs.twimg.com\\/media\\/X.jpg",'
        b'"b":"http://127.0.0.1:9/abs.twimg.com/images/x.png",'
        b'"c":"http://127.0.0.1:9/video.twimg.com/tweet_video/Y.mp4","d":"https://twimg.com.example/x"}')
    remote = MediaServer(SyntheticCatalog(), RequestLog(), mode="remote")
    remote.bind("http://127.0.0.1:9")
    assert remote.rewrite(body) == body


def test_same_seed_same_files_and_remote_keeps_twimg(server: ServerProcess, session: requests.Session) -> None:
    base = media_base(server)
    mine = json.dumps(truth(server))
    with running(*WORLD) as twin, running(*WORLD, "--media", "remote") as remote:
        twin_base = media_base(twin)
        assert twin_base != base
        assert json.dumps(truth(twin)).replace(twin_base, base) == mine
        remote_truth = json.dumps(truth(remote))
        assert "127.0.0.1" not in remote_truth and "https://pbs.twimg.com/media/" in remote_truth
        assert remote_truth == mine.replace(base + "/", "https://")
        assert media_base(remote).startswith("http://127.0.0.1:")
        photos = [p["url"] for p in of_type(truth(server), "Photo")][:10]
        videos = [v["url"] for v in of_type(truth(server), "Video")][:5]
        avatars = [a["avatarUrl"] for a in of_type(truth(server), "Account") if a.get("avatarUrl")][:5]
        assert photos and videos and avatars
        for url in photos + videos + avatars:
            path = url.removeprefix(base)
            one = session.get(base + path, timeout=30).content
            assert one == session.get(twin_base + path, timeout=30).content
            assert one == session.get(media_base(remote) + path, timeout=30).content


# -- files -----------------------------------------------------------------------------------------


def test_photo_sizes_and_spellings(server: ServerProcess, session: requests.Session) -> None:
    photo = of_type(truth(server), "Photo")[0]["url"]
    assert photo.endswith(".jpg")
    sizes = {name: session.get(f"{photo}?name={name}", timeout=30).content
             for name in ("thumb", "small", "medium", "large", "orig", "4096x4096")}
    for name, body in sizes.items():
        segments = jpeg_segments(body)
        assert f"size={name if name != '4096x4096' else 'orig'}".encode() in segments[0xFE][0]
    lengths = [len(sizes[n]) for n in ("thumb", "small", "medium", "large", "orig")]
    assert lengths == sorted(lengths) and len(set(lengths)) == 5
    assert sizes["4096x4096"] == sizes["orig"]  # both: the original (at most 4096 px)
    assert session.get(photo, timeout=30).content == sizes["medium"]  # no size asked: medium
    assert session.get(f"{photo}:orig", timeout=30).content == sizes["orig"]  # legacy suffix
    stem = photo.removesuffix(".jpg")
    assert session.get(f"{stem}?format=jpg&name=orig", timeout=30).content == sizes["orig"]
    assert session.get(f"{photo}?name=huge", timeout=30).status_code == 404


def test_avatar_banner_and_video_sizes(server: ServerProcess, session: requests.Session) -> None:
    client = Client(server.url)
    users = client.get("followers/list", screen_name="alice", count=200).json()["users"]
    timeline = client.get("statuses/user_timeline", screen_name="alice", count=200).json()
    client.close()
    avatar = next(u["profile_image_url_https"] for u in users if not u["default_profile_image"])
    assert avatar.endswith("_normal.jpg")
    by_suffix = {s: session.get(avatar.replace("_normal.jpg", s + ".jpg"), timeout=30).content
                 for s in ("_mini", "_normal", "_bigger", "_200x200", "_400x400", "")}
    lengths = [len(b) for b in by_suffix.values()]
    assert lengths == sorted(lengths) and len(set(lengths)) == 6  # no suffix: the original, largest
    for body in by_suffix.values():
        jpeg_segments(body)
    banner = next(u["profile_banner_url"] for u in users if "profile_banner_url" in u)
    banners = [session.get(f"{banner}{s}", timeout=30) for s in ("/300x100", "/600x200", "/1500x500", "")]
    assert all(r.status_code == 200 and r.headers["Content-Type"] == "image/jpeg" for r in banners)
    assert [len(r.content) for r in banners] == sorted({len(r.content) for r in banners})
    video = next(m for t in timeline for m in t.get("extended_entities", {}).get("media", [])
                 if m["type"] == "video")
    mp4 = sorted((v for v in video["video_info"]["variants"] if v["content_type"] == "video/mp4"),
                 key=lambda v: v["bitrate"])
    bodies = [session.get(v["url"], timeout=30).content for v in mp4]
    assert [len(b) for b in bodies] == sorted({len(b) for b in bodies})  # higher bitrate, bigger file
    assert all(mp4_boxes(b)[:3] == [b"ftyp", b"free", b"mdat"] for b in bodies)


def test_shared_default_avatar_has_identical_bytes(server: ServerProcess, session: requests.Session) -> None:
    avatars = sorted({a["avatarUrl"].replace("_normal.jpg", ".jpg")
                      for a in of_type(truth(server), "Account") if a.get("avatarUrl")})
    digests = {url: sha_of(session, server, url)["sha256"] for url in avatars}
    shared = [d for d, n in Counter(digests.values()).items() if n > 1]
    assert len(shared) == 1  # one default avatar, many URLs
    same = [u for u, d in digests.items() if d == shared[0]]
    assert 2 <= len(same) < len(avatars) // 2
    first, second = (session.get(u, timeout=30).content for u in same[:2])
    assert first == second and hashlib.sha256(first).hexdigest() == shared[0]
    # every other avatar is its own file
    assert len(set(digests.values())) == len(avatars) - len(same) + 1


def test_accounts_without_a_picture_share_twitters_default_url(server: ServerProcess, session: requests.Session) -> None:
    """As on Twitter: one URL (abs.twimg.com/sticky/default_profile_images/...) for every account
    that never set a picture, flagged ``default_profile_image``."""
    client = Client(server.url)
    users = client.get("followers/list", screen_name="alice", count=200).json()["users"]
    client.close()
    default = [u for u in users if u["default_profile_image"]]
    assert 2 <= len(default) < len(users) // 3
    assert {u["profile_image_url_https"].split("/", 3)[3] for u in default} == {
        "abs.twimg.com/sticky/default_profile_images/default_profile_normal.png"}
    original = default[0]["profile_image_url_https"].replace("_normal.png", ".png")
    r = session.get(original, timeout=30)
    assert r.status_code == 200 and r.headers["Content-Type"] == "image/png"
    assert all("/default_profile_images/" not in u["profile_image_url_https"]
               for u in users if not u["default_profile_image"])


def test_unknown_paths_are_404(server: ServerProcess, session: requests.Session) -> None:
    base = media_base(server)
    for path in ("/pbs.twimg.com/media/short.jpg", "/example.com/media/AAAAAAAAAAAAAAA.jpg", "/",
                 "/pbs.twimg.com/media/AAAAAAAAAAAAAAA.webp", "/pbs.twimg.com/profile_images/1/abcdefgh_huge.jpg",
                 "/video.twimg.com/ext_tw_video/1/pu/vid/1x1/AAAAAAAAAAAAAAAA.avi"):
        r = session.get(base + path, timeout=30)
        assert r.status_code == 404 and r.json()["error"] == "no such media file", path
    assert session.post(f"{base}/pbs.twimg.com/media/AAAAAAAAAAAAAAA.jpg", timeout=30).status_code == 405


# -- signing, quotas, the log, sha256 ----------------------------------------------------------


def test_signed_requests_are_refused_and_media_ignore_quotas(session: requests.Session) -> None:
    with running("--followers", "5", "--tweets", "30", "--photo-share", "0.5", "--quota", "users/show=1") as server:
        base = media_base(server)
        photo = of_type(truth(server), "Photo")[0]["url"]
        before = last_seq(server)
        signed = session.get(photo, auth=oauth(), timeout=30)
        assert signed.status_code == 400 and "must not be signed" in signed.json()["error"]
        bearer = session.get(photo, headers={"Authorization": "Bearer emulator-bearer-token"}, timeout=30)
        assert bearer.status_code == 400
        client = Client(server.url)
        assert client.get("users/show", screen_name="alice").status_code == 200
        assert client.get("users/show", screen_name="alice").status_code == 429  # the API quota is spent
        client.close()
        assert session.get(photo, timeout=30).status_code == 200  # media never count against it
        entries = log_since(server, before)
        media = [e for e in entries if e["media"]]
        assert [(e["authorization"], e["status"]) for e in media] == [(True, 400), (True, 400), (False, 200)]
        assert all(e["api"] == "media" and e["auth"] is None and e["path"] == photo.removeprefix(base)
                   for e in media)
        assert [e["status"] for e in entries if not e["media"]] == [200, 429]


def test_log_counts_media_downloads(server: ServerProcess, session: requests.Session) -> None:
    base = media_base(server)
    photos = [p["url"] for p in of_type(truth(server), "Photo")[:4]]
    before = last_seq(server)
    for url in photos:
        session.get(url + "?name=orig", timeout=30)
    for url in photos:
        sha_of(session, server, url + "?name=orig")  # computed, never logged as a download
    entries = log_since(server, before)
    assert [e["path"] for e in entries] == [u.removeprefix(base) for u in photos]
    assert all(e["media"] and e["endpoint"] == "media" and e["query"] == {"name": "orig"} and e["status"] == 200
               and e["bytes"] > 0 and e["url"] == f"{base}{e['path']}?name=orig" and not e["authorization"]
               for e in entries)


def test_sha256_endpoint_matches_the_download(server: ServerProcess, session: requests.Session) -> None:
    items = truth(server)
    urls = [of_type(items, "Photo")[0]["url"] + "?name=orig", of_type(items, "Video")[0]["url"],
            of_type(items, "Video")[0]["thumbnailUrl"], of_type(items, "Account")[0]["avatarUrl"],
            media_base(server) + "/abs.twimg.com/images/themes/theme1/bg.png"]
    for url in urls:
        facts = sha_of(session, server, url)
        body = session.get(url, timeout=30)
        assert facts["sha256"] == hashlib.sha256(body.content).hexdigest() and facts["size"] == len(body.content)
        assert facts["content_type"] == body.headers["Content-Type"] and facts["fault"] is None
    # the original twimg spelling names the same file
    local = urls[0]
    original = "https://" + local.removeprefix(media_base(server) + "/")
    assert sha_of(session, server, original)["sha256"] == sha_of(session, server, local)["sha256"]
    bad = session.get(f"{server.url}/_emulator/media/sha256", params={"url": "https://example.com/x.jpg"}, timeout=30)
    assert bad.status_code == 400
    missing = session.get(f"{server.url}/_emulator/media/sha256",
                          params={"url": media_base(server) + "/pbs.twimg.com/media/x.jpg"}, timeout=30)
    assert missing.status_code == 404


# -- faults ---------------------------------------------------------------------------------------


def outcome(session: requests.Session, url: str) -> str:
    """What a downloader sees: the status, "truncate" or "timeout"."""
    try:
        r = session.get(url, timeout=1.0, headers={"Connection": "close"})
    except requests.exceptions.ChunkedEncodingError:
        return "truncate"
    except requests.exceptions.ReadTimeout:
        return "timeout"
    if r.status_code == 200:
        check_file(r)
    return str(r.status_code)


def fates(server: ServerProcess, urls: list[str]) -> dict[str, str | None]:
    r = requests.get(f"{server.url}/_emulator/media", params={"url": urls}, timeout=30)
    r.raise_for_status()
    return {u["url"]: u["fault"] for u in r.json()["urls"] if u["exists"]}


def set_media(server: ServerProcess, **changes: Any) -> dict[str, Any]:
    return server.post_json("/_emulator/media", changes)


def test_faults_fail_the_same_urls_and_heal(session: requests.Session) -> None:
    args = ("--followers", "10", "--tweets", "120", "--photo-share", "0.6", "--seed", "3",
            "--media-faults", "0.5", "--media-timeout-delay", "120")
    with running(*args) as server, running(*args) as twin:
        urls = [p["url"] + "?name=orig" for p in of_type(truth(server), "Photo")][:40]
        fate = fates(server, urls)
        assert len(fate) == len(urls)
        assert set(fate.values()) == {None, "404", "truncate", "timeout"}
        twin_urls = [u.replace(media_base(server), media_base(twin)) for u in urls]
        assert list(fates(twin, twin_urls).values()) == list(fate.values())  # same seed, same failures
        world = server.get_json("/_emulator/world")["media"]
        assert (world["faults"], world["seed"], world["timeout_delay"]) == (0.5, 3, 120.0)
        # a download meets exactly the announced fault (only two of the slow timeouts are waited for)
        timeouts = [u for u, f in fate.items() if f == "timeout"][:2]
        fetched = [u for u, f in fate.items() if f != "timeout"] + timeouts
        before = last_seq(server)
        seen = {u: outcome(session, u) for u in fetched}
        assert seen == {u: fate[u] or "200" for u in fetched}
        failing = server.get_json("/_emulator/media?failing=1")["failing"]
        assert {f["url"]: f["fault"] for f in failing} == {u: f for u, f in fate.items() if f and u in fetched}
        logged = {e["url"]: e["fault"] for e in log_since(server, before) if e["media"]}
        assert logged == {u: fate[u] for u in fetched}
        # a lower rate heals a subset; another seed fails other URLs
        assert set_media(server, faults=0.25)["faults"] == 0.25
        lower = fates(server, urls)
        assert {u for u, f in lower.items() if f} < {u for u, f in fate.items() if f}
        set_media(server, faults=0.5, seed=4)
        assert fates(server, urls) != fate
        # healed: every URL that failed is served in full, with the bytes sha256 announces
        assert set_media(server, faults=0.0, seed=3)["faults"] == 0.0
        assert server.get_json("/_emulator/media?failing=1")["failing"] == []
        before = last_seq(server)
        for url in [u for u, f in fate.items() if f]:
            r = session.get(url, timeout=30)
            assert r.status_code == 200
            assert hashlib.sha256(r.content).hexdigest() == sha_of(session, server, url)["sha256"]
        assert {e["fault"] for e in log_since(server, before)} == {None}
        for bad in ({"faults": 2}, {"faults": "x"}, {"timeout_delay": 0}, {"nope": 1}):
            r = session.post(f"{server.url}/_emulator/media", json=bad, timeout=30)
            assert r.status_code == 400, bad


def test_a_slow_media_host_answers_late_and_speeds_up(session: requests.Session) -> None:
    with running("--followers", "5", "--tweets", "40", "--photo-share", "0.6", "--media-delay", "1.5") as server:
        url = of_type(truth(server), "Photo")[0]["url"] + "?name=orig"
        assert server.get_json("/_emulator/world")["media"]["delay"] == 1.5
        started = time.monotonic()
        slow = session.get(url, timeout=30)
        took = time.monotonic() - started
        assert slow.status_code == 200 and took >= 1.4, took  # a lower bound: the delay is real
        assert hashlib.sha256(slow.content).hexdigest() == sha_of(session, server, url)["sha256"]
        assert set_media(server, delay=0)["delay"] == 0
        started = time.monotonic()
        assert session.get(url, timeout=30).status_code == 200
        assert time.monotonic() - started < 1.4
        for bad in ({"delay": -1}, {"delay": "x"}):
            assert session.post(f"{server.url}/_emulator/media", json=bad, timeout=30).status_code == 400


def test_an_unreachable_media_host_refuses_connections_until_opened(session: requests.Session) -> None:
    with running("--followers", "5", "--tweets", "40", "--photo-share", "0.6", "--media-unreachable") as server:
        url = of_type(truth(server), "Photo")[0]["url"] + "?name=orig"
        assert url.startswith(media_base(server))  # payloads still name the host
        assert server.get_json("/_emulator/world")["media"]["reachable"] is False
        with pytest.raises(requests.exceptions.ConnectionError):
            session.get(url, timeout=5)
        assert set_media(server, reachable=True)["reachable"] is True
        assert session.get(url, timeout=30).status_code == 200
        assert set_media(server, reachable=False)["reachable"] is False
        with pytest.raises(requests.exceptions.ConnectionError):
            requests.get(url, timeout=5)
        assert session.post(f"{server.url}/_emulator/media", json={"reachable": "no"}, timeout=30).status_code == 400
