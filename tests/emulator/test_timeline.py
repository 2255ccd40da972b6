"""statuses/user_timeline: paging, the 3,200 cap, tweet modes, filters."""

from __future__ import annotations

from tests.emulator.conftest import Client, errors_of
from tests.emulator.refcrawl import walk_timeline


def test_max_id_walk_returns_the_3200_newest_once_then_empty(client: Client) -> None:
    tweets = walk_timeline(client, screen_name="alice")
    ids = [int(t["id_str"]) for t in tweets]
    assert len(ids) == len(set(ids)) == 3200  # 3,300 tweets, only the newest 3,200 reachable
    assert ids == sorted(ids, reverse=True)
    assert all(i > 2**53 for i in ids)
    me = client.get("users/show", screen_name="alice").json()
    assert me["statuses_count"] == 3300 and me["status"]["id_str"] == str(ids[0])
    # past the cap: nothing, not an error
    assert client.get("statuses/user_timeline", screen_name="alice", max_id=str(ids[-1] - 1)).json() == []


def test_since_id_is_exclusive_and_max_id_inclusive(client: Client) -> None:
    newest = client.get("statuses/user_timeline", screen_name="alice", count=50).json()
    ids = [int(t["id_str"]) for t in newest]
    lo, hi = ids[40], ids[10]
    page = client.get("statuses/user_timeline", screen_name="alice", count=200,
                      since_id=str(lo), max_id=str(hi)).json()
    assert [int(t["id_str"]) for t in page] == ids[10:40]
    assert client.get("statuses/user_timeline", screen_name="alice", since_id=str(ids[0])).json() == []
    # since_id + max_id paging in steps of 7 sees each tweet exactly once
    seen: list[int] = []
    max_id = None
    while True:
        extra = {"max_id": str(max_id)} if max_id else {}
        got = client.get("statuses/user_timeline", screen_name="alice", count=7, since_id=str(lo), **extra).json()
        if not got:
            break
        seen += [int(t["id_str"]) for t in got]
        max_id = int(got[-1]["id_str"]) - 1
    assert seen == ids[:40]


def test_invalid_ids_are_400_code_44(client: Client) -> None:
    r = client.get("statuses/user_timeline", screen_name="alice", since_id="abc")
    assert (r.status_code, errors_of(r)) == (400, [44])


def test_extended_and_compat_modes(client: Client) -> None:
    ext = client.get("statuses/user_timeline", screen_name="alice", count=200, tweet_mode="extended").json()
    compat = client.get("statuses/user_timeline", screen_name="alice", count=200).json()
    assert [t["id_str"] for t in ext] == [t["id_str"] for t in compat]
    assert all("full_text" in t and "text" not in t and "display_text_range" in t for t in ext)
    assert all("text" in t and "full_text" not in t and "display_text_range" not in t for t in compat)
    long_ones = [(e, c) for e, c in zip(ext, compat, strict=False) if c["truncated"]]
    assert long_ones, "some tweets exceed 140 characters"
    for e, c in long_ones:
        assert len(c["text"]) <= 140 + 30  # escaped entities may lengthen the raw string
        assert c["text"].endswith(c["entities"]["urls"][-1]["url"])
        assert c["entities"]["urls"][-1]["expanded_url"].endswith("/i/web/status/" + c["id_str"])
        assert "extended_entities" not in c and not e["truncated"]
    short = [(e, c) for e, c in zip(ext, compat, strict=False) if not c["truncated"] and "retweeted_status" not in c]
    assert any(e["full_text"] == c["text"] for e, c in short)
    retweets = [t for t in ext if "retweeted_status" in t]
    assert retweets and all(t["full_text"].startswith("RT @") for t in retweets)
    assert all("user" in t["retweeted_status"] for t in retweets)
    assert any("&amp;" in t["full_text"] or "&lt;" in t["full_text"] or "&gt;" in t["full_text"] for t in ext)


def test_payload_details(client: Client) -> None:
    tweets = walk_timeline(client, screen_name="alice", limit=600)
    quotes = [t for t in tweets if t.get("quoted_status")]
    assert quotes and all(q["is_quote_status"] and q["quoted_status_id_str"] == q["quoted_status"]["id_str"]
                          and "user" in q["quoted_status"] for q in quotes)
    replies = [t for t in tweets if t["in_reply_to_status_id_str"]]
    assert replies and all(r["in_reply_to_screen_name"] and r["in_reply_to_user_id_str"] for r in replies)
    media = [m for t in tweets for m in t.get("extended_entities", {}).get("media", [])]
    kinds = {m["type"] for m in media}
    assert kinds == {"photo", "video", "animated_gif"}
    video = next(m for m in media if m["type"] == "video")
    types = {v["content_type"] for v in video["video_info"]["variants"]}
    assert {"application/x-mpegURL", "video/mp4"} <= types and video["video_info"]["duration_millis"] > 0
    assert len([v for v in video["video_info"]["variants"] if "bitrate" in v]) >= 2
    assert all(t["source"].startswith("<a href=") for t in tweets)
    assert all(t["user"]["screen_name"] == "alice" for t in tweets)


def test_filters_apply_after_count(client: Client) -> None:
    page = client.get("statuses/user_timeline", screen_name="alice", count=100).json()
    no_rts = client.get("statuses/user_timeline", screen_name="alice", count=100, include_rts="false").json()
    assert [t["id_str"] for t in no_rts] == [t["id_str"] for t in page if "retweeted_status" not in t]
    no_replies = client.get("statuses/user_timeline", screen_name="alice", count=100, exclude_replies="true").json()
    assert len(no_replies) < len(page)
    trimmed = client.get("statuses/user_timeline", screen_name="alice", count=5, trim_user="1").json()
    assert all(set(t["user"]) == {"id", "id_str"} for t in trimmed)


def test_timeline_by_user_id_and_default_user(client: Client) -> None:
    me = client.get("users/show", screen_name="alice").json()
    by_id = client.get("statuses/user_timeline", user_id=me["id_str"], count=3).json()
    default = client.get("statuses/user_timeline", count=3).json()  # the authenticating user
    assert [t["id_str"] for t in by_id] == [t["id_str"] for t in default]
