"""The example files of a real export (tests/fixtures/archive, synthetic values in X's shapes)
read field by field, and the older layouts."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import pytest

from twitter_crawler.archive.parse import ArchiveParser, Items, MediaFile
from twitter_crawler.archive.reader import Archive, ArchiveError

EXAMPLES = Path(__file__).resolve().parents[1] / "fixtures" / "archive"
ME = "1460283925"


def _parse_tweets(archive: Archive) -> tuple[dict, list[MediaFile]]:
    parser = ArchiveParser(ME)
    c = Items()
    files: list[MediaFile] = []
    for record in archive.records("tweets"):
        parser.tweet(record, c, files)
    assert parser.skipped == []
    out: dict = {}
    for d in c.items():
        if d["type"] == "Edge":
            out.setdefault("edges", set()).add(
                (d["source"]["externalId"], d["name"], d["target"].get("externalId") or d["target"]["url"]))
        else:
            out[(d["type"], d.get("externalId") or d["url"])] = d
    return out, files


def test_layout_found() -> None:
    with Archive.open(EXAMPLES) as archive:
        assert archive.data["tweets"] == ["data/tweets.js", "data/tweets-part1.js"]
        assert archive.manifest()["userInfo"]["accountId"] == ME


def test_tweets_field_by_field() -> None:
    with Archive.open(EXAMPLES) as archive:
        items, files = _parse_tweets(archive)
    photo_tweet = items[("Tweet", "1766464819688525827")]
    assert photo_tweet == {
        "type": "Tweet", "externalId": "1766464819688525827", "service": "twitter",
        "message": "First light on the new telescope mount. Worth the wait. https://t.co/Qm3xVb8LpZ",
        "postDate": "2024-03-09T14:03:27Z", "tweetType": "tweet", "lang": "en",
        "source": "Twitter Web App"}
    assert items[("Photo", "1766464647722061833")] == {
        "type": "Photo", "externalId": "1766464647722061833",
        "url": "https://pbs.twimg.com/media/GIxYz1aWQAAb3Kd.jpg", "width": 2048, "height": 1536}
    reply = items[("Tweet", "1766754625123405824")]
    assert reply["tweetType"] == "reply"
    assert reply["inReplyToId"] == "1766750506316775425"
    assert reply["message"] == ("@sample_friend Slides from tonight's #localfirst meetup: "
                                "https://t.co/Zx9Qw8Er7T (Q&A notes to follow)")
    assert reply["source"] == "Twitter for iPhone"
    assert reply["postDate"] == "2024-03-10T09:15:02Z"
    assert items[("Account", "987654321")] == {
        "type": "Account", "externalId": "987654321", "service": "twitter",
        "handle": "sample_friend", "displayName": "Sample Friend"}
    assert items[("Website", "https://example.org/talks/local-first-2024")]["displayUrl"] == \
        "example.org/talks/local-fi…"
    retweet = items[("Tweet", "1128112424612941824")]
    assert retweet["tweetType"] == "retweet"
    assert retweet["message"].startswith("A long thread about building small tools")
    assert "retweetCount" not in retweet and "likeCount" not in photo_tweet  # left to the API
    assert items["edges"] == {
        ("1766464819688525827", "author", ME), ("1766754625123405824", "author", ME),
        ("1128112424612941824", "author", ME),
        ("1766464819688525827", "photo", "1766464647722061833"),
        ("1766754625123405824", "mention", "987654321"),
        ("1766754625123405824", "link", "https://example.org/talks/local-first-2024"),
    }
    # The retweet carries no edges of the original's (it names no original id: no media).
    assert files == [MediaFile({"type": "Photo", "externalId": "1766464647722061833"},
                               "1766464819688525827",
                               ["1766464819688525827-GIxYz1aWQAAb3Kd.jpg"],
                               "https://pbs.twimg.com/media/GIxYz1aWQAAb3Kd.jpg")]


def test_owner_contacts_and_likes() -> None:
    with Archive.open(EXAMPLES) as archive:
        parser = ArchiveParser(ME)
        owner = parser.owner(next(archive.records("account")), next(archive.records("profile")),
                             archive.manifest()["userInfo"])
        assert owner == {
            "type": "Account", "externalId": ME, "service": "twitter", "handle": "example_user",
            "displayName": "Example User ✨",
            "description": "Amateur astronomer. Tools, telescopes and tea.",
            "location": "Lisbon, Portugal",
            "avatarUrl": "https://pbs.twimg.com/profile_images/1700000000000000000/AbCdEfGh.jpg",
            "dateJoined": "2013-05-20T18:41:07Z", "isMe": True}
        followers = [parser.contact("follower", r) for r in archive.records("follower")]
        assert [e["target"]["externalId"] for e in followers] == ["14920385", "1402217865301426177",
                                                              "2893015741"]
        assert {e["source"]["externalId"] for e in followers} == {ME}
        following = [parser.contact("following", r) for r in archive.records("following")]
        assert [e["target"]["externalId"] for e in following] == ["783214", "1188402736641839104"]
        likes = [i for r in archive.records("like") for i in parser.like(r)]
    assert likes[0] == {"type": "Tweet", "externalId": "1759986817824030725", "service": "twitter",
                        "message": "Bread update: the sourdough finally rose & it tastes great "
                                   "https://t.co/h2Kd8PqXw1 https://t.co/Lm4Nc7TzRa"}
    assert likes[1] == {"type": "Edge", "name": "like",
                        "source": {"type": "Account", "externalId": ME},
                        "target": {"type": "Tweet", "externalId": "1759986817824030725"}}
    assert len(likes) == 4


def _old_layout(folder: Path) -> None:
    """The 2019–20 layout: tweet.js, records without their wrapper, '[ {' … '}, {' at column 0."""
    import orjson

    data = folder / "data"
    records = [r for name in ("tweets.js", "tweets-part1.js")
               for r in orjson.loads((EXAMPLES / "data" / name).read_bytes().partition(b"=")[2])]
    bodies = [orjson.dumps(r["tweet"], option=orjson.OPT_INDENT_2) for r in records]
    (data / "tweet.js").write_bytes(b"window.YTD.tweet.part0 = [ " + b", ".join(bodies) + b" ]")
    (data / "tweets.js").unlink()
    (data / "tweets-part1.js").unlink()


@pytest.mark.parametrize("layout", ["2019", "compact", "zip-in-folder"])
def test_older_and_odd_layouts(tmp_path: Path, layout: str) -> None:
    shutil.copytree(EXAMPLES, tmp_path / "x")
    folder = tmp_path / "x"
    if layout == "2019":
        _old_layout(folder)
    elif layout == "compact":  # one line, no pretty-printing; with a BOM and a trailing ';'
        body = (folder / "data" / "tweets.js").read_bytes().partition(b"=")[2]
        import orjson
        (folder / "data" / "tweets.js").write_bytes(
            "\ufeff".encode() + b"window.YTD.tweets.part0 = " + orjson.dumps(orjson.loads(body)) + b";")
    target: Path = folder
    if layout == "zip-in-folder":  # a re-packed ZIP: a wrapper folder and __MACOSX/
        target = tmp_path / "repacked.zip"
        with zipfile.ZipFile(target, "w") as zf:
            for f in folder.rglob("*"):
                if f.is_file():
                    zf.write(f, f"twitter-2024-03-12/{f.relative_to(folder).as_posix()}")
            zf.writestr("__MACOSX/twitter-2024-03-12/data/._tweets.js", b"\0\0")
    with Archive.open(target) as archive:
        items, _ = _parse_tweets(archive)
    tweets = {k[1]: v for k, v in items.items() if k != "edges" and k[0] == "Tweet"}
    assert set(tweets) == {"1766464819688525827", "1766754625123405824", "1128112424612941824"}
    assert tweets["1766754625123405824"]["message"].endswith("(Q&A notes to follow)")


def test_damaged_data_file(tmp_path: Path) -> None:
    shutil.copytree(EXAMPLES, tmp_path / "x")
    path = tmp_path / "x" / "data" / "tweets.js"
    path.write_bytes(path.read_bytes()[:-300])  # cut short
    with Archive.open(tmp_path / "x") as archive, pytest.raises(ArchiveError, match="cut short"):
        list(archive.records("tweets"))


def test_long_post_gets_its_note_tweet_text() -> None:
    """note-tweet.js holds the full text of a long post; tweets.js a cut one (matched by creation
    time within a second and by text prefix)."""
    long_text = ("First light on the new telescope mount. Worth the wait. " + "Details " * 40).strip()
    with Archive.open(EXAMPLES) as archive:
        parser = ArchiveParser(ME)
        parser.notes.add({"noteTweet": {"noteTweetId": "99", "createdAt": "2024-03-09T14:03:28.000Z",
                                        "core": {"text": long_text.replace("Details", "A &amp; B", 1)}}})
        parser.notes.add({"noteTweet": {"noteTweetId": "98", "createdAt": "2024-03-09T14:03:27.000Z",
                                        "core": {"text": "Something else entirely"}}})
        c = Items()
        for record in archive.records("tweets"):
            parser.tweet(record, c, [])
    messages = {t["externalId"]: t["message"] for t in c.tweets}
    assert messages["1766464819688525827"] == long_text.replace("Details", "A & B", 1)
    assert messages["1766754625123405824"].startswith("@sample_friend Slides")  # no note: its own


def test_repeats_are_emitted_once_and_a_mention_keeps_the_newest_handle() -> None:
    """The parser leaves out what it emitted before (the dedupe pipeline passes its answers as
    they are): a link many tweets share is one Website; a mentioned account is emitted again only
    from a newer tweet (tweets.js is in no order), and a mention never renames the owner."""
    def tweet(tid: str, handle: str, uid: str = "42") -> dict:
        return {"id_str": tid, "full_text": f"@{handle} look https://t.co/a",
                "created_at": "Sat May 20 06:17:09 +0000 2017",
                "entities": {"user_mentions": [{"id_str": uid, "screen_name": handle, "name": handle}],
                             "urls": [{"url": "https://t.co/a", "expanded_url": "https://example.org/",
                                       "display_url": "example.org"}]}}

    parser = ArchiveParser(ME)
    first, second = Items(), Items()
    parser.tweet(tweet("200", "middle_name"), first, [])
    parser.tweet(tweet("100", "old_name"), second, [])  # older: its handle is not put back
    parser.tweet(tweet("300", "new_name"), second, [])
    parser.tweet(tweet("400", "owner_then", uid=ME), second, [])
    items = first.items() + second.items()
    assert [(i["externalId"], i["handle"]) for i in items if i["type"] == "Account"] == [
        ("42", "middle_name"), ("42", "new_name")]
    assert [i for i in items if i["type"] == "Website"] == [
        {"type": "Website", "url": "https://example.org/", "displayUrl": "example.org"}]
    edges = {(e["name"], e["source"]["externalId"], e["target"].get("externalId") or e["target"]["url"])
             for e in items if e["type"] == "Edge"}
    for tid in ("100", "200", "300", "400"):
        assert ("link", tid, "https://example.org/") in edges
        assert ("author", tid, ME) in edges
    assert ("mention", "400", ME) in edges
