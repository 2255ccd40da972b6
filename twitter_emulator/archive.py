"""``python -m twitter_emulator.archive --out x.zip``: the synthetic world's main account as X's
"archive of your data", in the real format (``ARCHIVE_FORMAT.md``).

The same world options as the emulator (``--handle``, ``--tweets``, ``--seed``...) give the same
world: the archive holds the main account's tweets as the emulator's API serves them (the same
ids, texts, entities and media), its followers and followings, likes of other accounts' tweets,
the profile and the media files, with the bytes the emulator's media listener serves for the
original size (``name=orig``; an avatar without its size suffix). The world's tweets are its
history up to its present: mutations (``POST /_emulator/mutate``) add newer tweets that the API
serves and the archive does not have, as an archive downloaded before them.

Layout: ``data/manifest.js``, ``data/tweets.js`` and ``data/tweets-partN.js`` (``--parts``),
``follower.js``, ``following.js``, ``like.js``, ``profile.js``, ``account.js``,
``data/tweets_media/<tweet id>-<file>``, ``data/profile_media/<account id>-<file>``;
``--layout 2019`` writes the older one (``tweet.js``, records without their ``{"tweet": …}``
wrapper, ``[ {`` … ``}, {``, ``tweet_media/``). It also writes what an importer must never
import, each holding ``--private-marker``: the account's e-mail and phone number, a direct
message, an IP log, ad data, a deleted tweet and a Circle tweet (listed in
``twitter-circle-tweet.js`` and present in ``tweets.js``, as X does).

Written as a stream (ZIP64), one tweet at a time: a 200,000-tweet archive needs little memory.
Imports nothing from the crawler.
"""

from __future__ import annotations

import argparse
import sys
import zipfile
from pathlib import Path
from typing import Any

import orjson

from twitter_emulator import synth
from twitter_emulator.media import media_file, parse_media_path
from twitter_emulator.serialize import Renderer
from twitter_emulator.synth import ME, OUT0
from twitter_emulator.world import World, WorldOptions

PRIVATE_MARKER = "PRIVATE-ARCHIVE-MARKER"
GENERATED = "2022-10-01T00:00:00.000Z"  # the world's present (world.NOW_MS)


def _strings(value: Any) -> Any:
    """Numbers as the archive writes them: strings (booleans stay booleans)."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list):
        return [_strings(v) for v in value]
    if isinstance(value, dict):
        return {k: _strings(v) for k, v in value.items() if v is not None}
    return value


def archive_tweet(renderer: Renderer, world: World, n: int) -> dict[str, Any]:
    """Tweet ``n`` of the main account as an archive record (without its wrapper)."""
    t = world.tweet(ME, n)
    d = renderer.tweet(t, with_user=False, embed=False)
    for key in ("retweeted_status", "quoted_status", "quoted_status_permalink", "is_quote_status",
                "quoted_status_id", "quoted_status_id_str", "geo", "coordinates", "place",
                "contributors"):
        d.pop(key, None)
    if t.quoted:
        # No quoted_status in an archive: the quote is a link to the quoted tweet (§3).
        qid = world.tweet_id(*t.quoted)
        end = len(t.text)
        d.setdefault("entities", {}).setdefault("urls", []).append({
            "url": "https://t.co/" + synth.code62(synth.h64(t.id, 78), 10),
            "expanded_url": f"https://twitter.com/{world.screen_name(t.quoted[0])}/status/{qid}",
            "display_url": f"twitter.com/{world.screen_name(t.quoted[0])}/s…",
            "indices": [end, end]})
    d["edit_info"] = {"initial": {"editTweetIds": [str(t.id)], "editableUntil": GENERATED,
                                  "editsRemaining": "5", "isEditEligible": False}}
    d["favorited"] = False
    return _strings(d)


def media_files(record: dict[str, Any]) -> list[tuple[str, str]]:
    """(file name in tweets_media/, URL whose bytes it holds) of a record's own media."""
    tid = record["id_str"]
    out = []
    for m in record.get("extended_entities", {}).get("media", []):
        if "source_status_id_str" in m:
            continue  # a retweet's media belong to the original
        if m["type"] == "photo":
            url = m["media_url_https"]
            out.append((f"{tid}-{url.rpartition('/')[2]}", url + "?name=orig"))
        else:
            mp4 = [v for v in m.get("video_info", {}).get("variants", [])
                   if v.get("content_type") == "video/mp4"]
            best = max(mp4, key=lambda v: int(v.get("bitrate", "0")))
            url = best["url"]
            out.append((f"{tid}-{url.split('?', 1)[0].rpartition('/')[2]}", url))
    return out


def media_bytes(url: str) -> bytes:
    """What the emulator's media listener serves for ``url``."""
    path, _, query = url.removeprefix("https://").partition("?")
    params = dict(p.partition("=")[::2] for p in query.split("&") if p)
    ref = parse_media_path("/" + path, params)
    if ref is None:
        raise ValueError(f"not a media URL of the world: {url}")
    return media_file(ref).body


class _DataFile:
    """One ``window.YTD.<name>.partN = [...]`` member, written record by record."""

    def __init__(self, zf: zipfile.ZipFile, member: str, global_name: str, wrapper: str | None,
                 old: bool) -> None:
        self.out = zf.open(member, "w", force_zip64=True)
        self.wrapper = wrapper
        self.old = old
        self.count = 0
        self.member = member
        self.global_name = global_name
        self.out.write(f"window.{global_name} = [".encode())

    def add(self, record: Any) -> None:
        if self.wrapper:
            record = {self.wrapper: record}
        body = orjson.dumps(record, option=orjson.OPT_INDENT_2)
        if self.old:  # "[ {" … "}, {" … "} ]" at column 0 (2019–20)
            self.out.write((b" " if not self.count else b", ") + body)
        else:  # "[\n  {" … "  },\n  {" … "  }\n]" (2022 on)
            self.out.write((b"\n" if not self.count else b",\n") + b"  " + body.replace(b"\n", b"\n  "))
        self.count += 1

    def close(self) -> None:
        self.out.write(b" ]" if self.old else (b"\n]" if self.count else b"]"))
        self.out.close()


class ArchiveWriter:
    def __init__(self, world: World, out: Path, *, parts: int = 1, likes: int = 50,
                 media: bool = True, missing_media: int = 0, layout: str = "2023",
                 private_marker: str = PRIVATE_MARKER) -> None:
        self.world = world
        self.out = out
        self.parts = max(1, parts)
        self.likes = likes
        self.media = media
        self.missing_media = missing_media
        self.old = layout == "2019"
        self.marker = private_marker
        self.manifest: dict[str, Any] = {}

    def _data(self, zf: zipfile.ZipFile, name: str, records: Any, part: int = 0,
              wrapper: str | None = "") -> _DataFile:
        kebab = name.replace("_", "-")
        member = f"data/{kebab}.js" if part == 0 else f"data/{kebab}-part{part}.js"
        wrap = None if self.old else (name.split("_")[0] if wrapper == "" else wrapper)
        f = _DataFile(zf, member, f"YTD.{name}.part{part}", wrap, self.old)
        for record in records:
            f.add(record)
        f.close()
        camel = name.split("_")[0] + "".join(w.capitalize() for w in name.split("_")[1:])
        entry = self.manifest.setdefault(camel, {"files": []})
        entry["files"].append({"fileName": member, "globalName": f.global_name,
                               "count": str(f.count)})
        return f

    def write(self) -> dict[str, int]:
        w = self.world
        me = w.account(ME)
        uid = str(me.id)
        renderer = Renderer(w)
        counts = {"tweets": 0, "media_files": 0, "missing_media": 0}
        tweets_name = "tweet" if self.old else "tweets"
        media_dir = "data/tweet_media" if self.old else "data/tweets_media"
        total = w.timeline_len(ME)
        circle_id = "1" + "0" * 18  # an id no world tweet has
        with zipfile.ZipFile(self.out, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as zf:
            per_part = -(-total // self.parts) if total else 0
            skipped_media = 0
            for part in range(self.parts):
                # Newest first within a part, as X's files are not in order either.
                lo, hi = part * per_part, min(total, (part + 1) * per_part)
                records: list[tuple[str, str]] = []  # media files of the part
                f = _DataFile(zf, f"data/{tweets_name}.js" if part == 0
                              else f"data/{tweets_name}-part{part}.js",
                              f"YTD.{tweets_name}.part{part}", None if self.old else "tweet", self.old)
                for n in range(hi - 1, lo - 1, -1):
                    record = archive_tweet(renderer, w, n)
                    f.add(record)
                    counts["tweets"] += 1
                    if self.media:
                        records += media_files(record)
                if part == 0:
                    # A Circle tweet: in tweets.js, listed in twitter-circle-tweet.js (§4).
                    f.add({"id": circle_id, "id_str": circle_id,
                           "full_text": f"circle only {self.marker}", "created_at":
                           synth.twitter_date(1600000000000), "lang": "en", "entities": {},
                           "favorite_count": "0", "retweet_count": "0"})
                f.close()
                # After the part: a ZIP takes one member at a time.
                for name, url in records:
                    if skipped_media < self.missing_media:
                        skipped_media += 1
                        counts["missing_media"] += 1
                        continue
                    zf.writestr(f"{media_dir}/{name}", media_bytes(url))
                    counts["media_files"] += 1
                self.manifest.setdefault(tweets_name, {"mediaDirectory": media_dir, "files": []})
                self.manifest[tweets_name]["files"].append(
                    {"fileName": f.member, "globalName": f.global_name, "count": str(f.count)})
            self._data(zf, "follower", ({"accountId": str(w.user_id(s)),
                                         "userLink": f"https://twitter.com/intent/user?user_id={w.user_id(s)}"}
                                        for _, s in w.followers.down(w.followers.max_seq)
                                        if w.state(s) != "suspended"))
            self._data(zf, "following", ({"accountId": str(w.user_id(s)),
                                          "userLink": f"https://twitter.com/intent/user?user_id={w.user_id(s)}"}
                                         for _, s in w.followings.down(w.followings.max_seq)
                                         if w.state(s) != "suspended"))
            self._data(zf, "like", self._likes(renderer))
            self._data(zf, "account", [{
                "email": f"{self.marker.lower()}@example.invalid",
                "phoneNumber": f"+1555{self.marker}",
                "createdVia": "web", "username": me.screen_name, "accountId": uid,
                "createdAt": synth.iso_date(me.created_ms).replace("Z", ".000Z"),
                "accountDisplayName": me.name}])
            avatar = me.avatar.replace("_normal.", ".")
            self._data(zf, "profile", [{
                "description": {"bio": me.description, "website": me.url_tco or "",
                                "location": me.location},
                "avatarMediaUrl": avatar,
                **({"headerMediaUrl": me.banner} if me.banner else {})}])
            if self.media:
                zf.writestr(f"data/profile_media/{uid}-{avatar.rpartition('/')[2]}", media_bytes(avatar))
            # What an importer must never read.
            self._data(zf, "twitter_circle_tweet", [{"twitterCircleTweet": {"tweetId": circle_id}}],
                       wrapper=None)
            self._data(zf, "deleted_tweets", [{
                "id_str": "2" + "0" * 18, "id": "2" + "0" * 18, "full_text": f"deleted {self.marker}",
                "created_at": synth.twitter_date(1600000000000), "deleted_at": synth.twitter_date(1600000100000)}],
                wrapper="tweet")
            self._data(zf, "direct_messages", [{"dmConversation": {
                "conversationId": f"{uid}-42", "messages": [{"messageCreate": {
                    "text": f"secret message {self.marker}", "senderId": uid, "recipientId": "42"}}]}}],
                wrapper=None)
            self._data(zf, "ip_audit", [{"ipAudit": {"accountId": uid, "loginIp": "192.0.2.1",
                                                     "createdAt": GENERATED, "marker": self.marker}}],
                       wrapper=None)
            self._data(zf, "ad_engagements", [{"ad": {"adsUserData": {"marker": self.marker}}}],
                       wrapper=None)
            self._data(zf, "note_tweet", [])
            manifest = {
                "userInfo": {"accountId": uid, "userName": me.screen_name, "displayName": me.name},
                "archiveInfo": {"sizeBytes": "0", "generationDate": GENERATED,
                                "isPartialArchive": False, "maxPartSizeBytes": "53687091200"},
                "readmeInfo": {"fileName": "data/README.txt", "directory": "data/",
                               "name": "README.txt"},
                "dataTypes": self.manifest,
            }
            zf.writestr("data/manifest.js", b"window.__THAR_CONFIG = "
                        + orjson.dumps(manifest, option=orjson.OPT_INDENT_2))
            zf.writestr("data/README.txt", "INTRODUCTION\nA synthetic archive of the emulator's world.\n")
            zf.writestr("Your archive.html", "<!doctype html><title>Your Twitter Data</title>\n")
        return counts

    def _likes(self, renderer: Renderer) -> Any:
        w = self.world
        for i in range(self.likes):
            slot = OUT0 + i % w.opts.outsiders
            n = (i * 7919) % w.timeline_len(slot)
            t = w.tweet(slot, n)
            yield {"tweetId": str(t.id), "fullText": renderer.tweet(t, with_user=False)["full_text"],
                   "expandedUrl": f"https://twitter.com/i/web/status/{t.id}"}


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m twitter_emulator.archive",
        description="Write the synthetic world's main account as X's archive of your data (a ZIP in "
                    "the real format), for the crawler's archive import: scrapy crawl archive -a path=ZIP.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--out", type=Path, required=True, help="the ZIP to write")
    p.add_argument("--parts", type=int, default=1, help="tweets files (tweets.js, tweets-part1.js, ...)")
    p.add_argument("--likes", type=int, default=50, help="likes of other accounts' tweets")
    p.add_argument("--no-media", action="store_true", help="write no media files")
    p.add_argument("--missing-media", type=int, default=0,
                   help="leave out this many media files (an archive that lacks some)")
    p.add_argument("--layout", choices=("2023", "2019"), default="2023",
                   help="2019: tweet.js, unwrapped records, '[ {' and tweet_media/")
    p.add_argument("--private-marker", default=PRIVATE_MARKER,
                   help="text in every private field (e-mail, phone, DMs, IP log, ads, deleted and "
                        "Circle tweets), for tests that check it never reaches a store")
    w = p.add_argument_group("synthetic world (as python -m twitter_emulator)")
    w.add_argument("--handle", default="alice")
    for name, default in (("followers", 120), ("followings", 40), ("tweets", 250),
                          ("following-tweets", 20), ("protected-followings", 1),
                          ("suspended-followings", 1), ("seed", 1)):
        w.add_argument(f"--{name}", type=int, default=default)
    for name, default in (("retweet-share", 0.15), ("quote-share", 0.08), ("reply-share", 0.12),
                          ("photo-share", 0.15), ("video-share", 0.04), ("gif-share", 0.03),
                          ("link-share", 0.2), ("mention-share", 0.25)):
        w.add_argument(f"--{name}", type=float, default=default)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        world = World(WorldOptions(
            handle=args.handle.lstrip("@"), followers=args.followers, followings=args.followings,
            tweets=args.tweets, following_tweets=args.following_tweets,
            retweet_share=args.retweet_share, quote_share=args.quote_share, reply_share=args.reply_share,
            photo_share=args.photo_share, video_share=args.video_share, gif_share=args.gif_share,
            link_share=args.link_share, mention_share=args.mention_share,
            protected_followings=args.protected_followings,
            suspended_followings=args.suspended_followings, seed=args.seed))
    except ValueError as err:
        print(f"archive: {err}", file=sys.stderr)
        return 2
    counts = ArchiveWriter(world, args.out, parts=args.parts, likes=args.likes, media=not args.no_media,
                           missing_media=args.missing_media, layout=args.layout,
                           private_marker=args.private_marker).write()
    print(f"{args.out}: {counts['tweets']:,} tweets in {args.parts} part(s), "
          f"{counts['media_files']:,} media files ({counts['missing_media']:,} left out)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
