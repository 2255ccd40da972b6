"""twitter_crawler.api.v2.parse against the recorded v2 payloads, documented shapes, odd objects
and v2's error answers.

Every value asserted for a recording was read by hand in the recording it names.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

import twitter_emulator
from twitter_crawler.api.v2.parse import (
    Problem,
    ProblemError,
    TimelinePage,
    UsersPage,
    check_error,
    load_json,
    load_response,
    parse_timeline,
    parse_tweet,
    parse_user,
    parse_user_response,
    parse_users_page,
    problems_of,
)
from twitter_crawler.exceptions import MalformedPayload, TwitterAPIError
from twitter_crawler.items import Account, Edge, Photo, Tweet, Video, Website, item_key, to_dict

RECORDINGS = Path(twitter_emulator.__file__).parent / "recordings" / "twitter-v2"
PROBLEMS = "https://api.twitter.com/2/problems/"


def body(name: str) -> bytes:
    return (RECORDINGS / f"tweepy__{name}.body.json").read_bytes()


def of(items: list[Any], cls: type) -> list[Any]:
    return [i for i in items if isinstance(i, cls)]


def by_id(items: list[Any], cls: type) -> dict[str, Any]:
    return {i.externalId: i for i in items if isinstance(i, cls)}


def edge_pairs(items: list[Any], name: str) -> set[tuple[str, str]]:
    return {(e.source["externalId"], e.target.get("externalId") or e.target["url"])
            for e in items if isinstance(e, Edge) and e.name == name}


def assert_well_formed(items: list[Any]) -> None:
    keys = [item_key(i) for i in items]
    assert len(keys) == len(set(keys))
    rank = {"Account": 0, "Tweet": 1, "Photo": 2, "Video": 2, "Website": 2, "Edge": 3}
    ranks = [rank[i.type] for i in items]
    assert ranks == sorted(ranks)
    nodes = {item_key(i) for i in items if not isinstance(i, Edge)}
    for e in of(items, Edge):
        for end in (e.source, e.target):
            assert (end["type"], end.get("externalId") or end["url"]) in nodes


# -- the recordings ---------------------------------------------------------------------------


def test_recorded_user_by_username() -> None:
    payload = load_response(200, body("test_client_get_user__0"))
    account = parse_user_response(payload)
    # {"data": {"id": "783214", "name": "Twitter", "username": "Twitter"}}: default fields only
    assert to_dict(account) == {"type": "Account", "externalId": "783214", "service": "twitter",
                                "handle": "Twitter", "displayName": "Twitter"}
    assert parse_user_response(payload, me_id="783214").isMe is True
    assert parse_user_response(payload, me_id="12").isMe is None


def test_recorded_followers_page() -> None:
    page = parse_users_page(load_json(body("test_client_get_users_followers__0")), me_id="783214")
    assert isinstance(page, UsersPage)
    assert len(page.users) == 100 and len({u.externalId for u in page.users}) == 100
    assert (page.next_cursor, page.previous_cursor, page.result_count) == ("5CS0O0C6II61EZZZ", "0", 100)
    assert page.errors == [] and page.skipped == [] and page.error is None
    first, last = page.users[0], page.users[-1]
    assert (first.externalId, first.handle, first.displayName) == ("1376998163739987969", "Zamari97491661", "Za’mari")
    assert (last.externalId, last.handle, last.displayName) == ("1381809756931682304", "JuvenalCarrill9",
                                                                 "Juvenal Carrillo")
    assert (page.users[4].displayName, page.users[17].displayName) == ("EL Theophilus♥️🌏", "なずな")
    assert (page.users[23].externalId, page.users[23].handle) == ("176966800", "djatormenta")  # an old, short id
    assert page.users[51].externalId == "509350505"
    assert all(u.isMe is None and u.followersCount is None and u.description is None for u in page.users)


def test_recorded_tweets_page() -> None:
    page = parse_timeline(load_json(body("test_client_get_users_tweets__0")))
    assert isinstance(page, TimelinePage)
    assert page.tweet_ids == ["1577730467436138524", "1565318587736285184"]
    assert (page.next_token, page.result_count) == ("7140dibdnow9c7btw4232poeq0wapgnwgwqwvuwn3peex", 2)
    assert (page.newest_id, page.oldest_id) == ("1577730467436138524", "1565318587736285184")
    assert (page.max_id, page.min_id) == ("1577730467436138524", "1565318587736285184")
    assert page.skipped == [] and page.errors == []
    # default fields only (id, text, edit_history_tweet_ids): no author, no date, no metrics
    assert [to_dict(i) for i in page.items] == [
        {"type": "Tweet", "externalId": "1577730467436138524", "service": "twitter", "tweetType": "tweet",
         "message": "whoa, it works\n\nnow everyone can mix GIFs, videos, and images in one Tweet, available on "
                    "iOS and Android https://t.co/3OQ4eGsUku https://t.co/LVVolAQPZi"},
        {"type": "Tweet", "externalId": "1565318587736285184", "service": "twitter", "tweetType": "tweet",
         "message": "if you see an edited Tweet it's because we're testing the edit button\n\n"
                    "this is happening and you'll be okay"},
    ]
    assert parse_timeline(load_json(body("test_client_get_users_tweets__0")), limit=1).tweet_ids == [
        "1577730467436138524"]


# -- a full page in the documented shapes -----------------------------------------------------

ME = "2244994945"


def user(uid: str, name: str, **extra: Any) -> dict[str, Any]:
    return {"id": uid, "name": name.title(), "username": name, "created_at": "2013-12-14T04:35:55.000Z",
            "description": f"bio of {name}", "location": "127.0.0.1", "profile_image_url":
            f"https://pbs.twimg.com/profile_images/1/{name}_normal.jpg", "protected": False, "url": "",
            "public_metrics": {"followers_count": 10, "following_count": 20, "tweet_count": 30, "listed_count": 4},
            "verified": False, **extra}


def tweet(tid: str, author: str, text: str, **extra: Any) -> dict[str, Any]:
    return {"id": tid, "edit_history_tweet_ids": [tid], "text": text, "author_id": author,
            "conversation_id": tid, "created_at": "2019-12-31T19:26:16.000Z", "lang": "en",
            "public_metrics": {"retweet_count": 7, "reply_count": 3, "like_count": 38, "quote_count": 1,
                               "bookmark_count": 2, "impression_count": 1500}, **extra}


def page_payload() -> dict[str, Any]:
    """Shapes from the v2 data dictionary and real answers (TWITTER_API.md §2)."""
    return {
        "data": [
            # a retweet: its text is cut, its media are the original's
            tweet("900", ME, "RT @bob: a photo &amp; a link https://t.co/L https://t.co/P",
                  referenced_tweets=[{"type": "retweeted", "id": "800"}],
                  attachments={"media_keys": ["3_801"]},
                  entities={"mentions": [{"start": 3, "end": 7, "username": "bob", "id": "22"}]},
                  public_metrics={"retweet_count": 5, "reply_count": 0, "like_count": 0, "quote_count": 0,
                                  "bookmark_count": 0, "impression_count": 0}),
            # a quote: v2 keeps the quoted tweet's permalink in text and urls
            tweet("901", ME, "so true @carol https://t.co/Q", referenced_tweets=[{"type": "quoted", "id": "700"}],
                  entities={"mentions": [{"start": 8, "end": 14, "username": "carol", "id": "33"}],
                            "urls": [{"start": 15, "end": 28, "url": "https://t.co/Q",
                                      "expanded_url": "https://twitter.com/dave/status/700",
                                      "display_url": "twitter.com/dave/status/700"}]},
                  source="Twitter Web App"),
            # a reply with a video, in a thread
            tweet("902", ME, "@erin agreed https://t.co/V", conversation_id="600",
                  referenced_tweets=[{"type": "replied_to", "id": "650"}], in_reply_to_user_id="55",
                  attachments={"media_keys": ["7_903", "16_904"]},
                  entities={"mentions": [{"start": 0, "end": 5, "username": "erin"}],  # older: no id
                            "urls": [{"start": 13, "end": 26, "url": "https://t.co/V",
                                      "expanded_url": f"https://twitter.com/{ME}/status/902/video/1",
                                      "display_url": "pic.twitter.com/V"}]}),
            # a long post: the full text is in note_tweet
            tweet("903", ME, "truncated…", note_tweet={"text": "the whole &lt;long&gt; text"}),
        ],
        "includes": {
            "users": [user(ME, "twitterdev"), user("22", "bob", url="https://t.co/b",
                                                    entities={"url": {"urls": [{"start": 0, "end": 13,
                                                              "url": "https://t.co/b",
                                                              "expanded_url": "https://bob.example",
                                                              "display_url": "bob.example"}]}}),
                      user("33", "carol"), user("44", "dave"), user("55", "erin")],
            "tweets": [
                tweet("800", "22", "a photo &amp; a link https://t.co/L https://t.co/P",
                      attachments={"media_keys": ["3_801"]},
                      entities={"urls": [{"start": 21, "end": 34, "url": "https://t.co/L",
                                          "expanded_url": "https://example.com/a", "display_url": "example.com/a"},
                                         {"start": 35, "end": 48, "url": "https://t.co/P",
                                          "expanded_url": "https://twitter.com/bob/status/800/photo/1",
                                          "display_url": "pic.twitter.com/P", "media_key": "3_801"}]}),
                tweet("700", "44", "quoted, with its own photo @zed", attachments={"media_keys": ["3_701"]},
                      referenced_tweets=[{"type": "replied_to", "id": "1"}],
                      entities={"mentions": [{"start": 27, "end": 31, "username": "zed", "id": "99"}]}),
                tweet("650", "55", "the start of it", conversation_id="600"),
            ],
            "media": [
                {"media_key": "3_801", "type": "photo", "url": "https://pbs.twimg.com/media/a.jpg",
                 "width": 1200, "height": 675},
                {"media_key": "7_903", "type": "video", "preview_image_url": "https://pbs.twimg.com/v.jpg",
                 "width": 1280, "height": 720, "duration_ms": 46947, "variants": [
                     {"bit_rate": 832000, "content_type": "video/mp4", "url": "https://video.twimg.com/v/640.mp4"},
                     {"content_type": "application/x-mpegURL", "url": "https://video.twimg.com/v/pl.m3u8"},
                     {"bit_rate": 2176000, "content_type": "video/mp4", "url": "https://video.twimg.com/v/1280.mp4"},
                     {"bit_rate": 256000, "content_type": "video/mp4", "url": "https://video.twimg.com/v/320.mp4"}]},
                {"media_key": "16_904", "type": "animated_gif", "preview_image_url": "https://pbs.twimg.com/g.jpg",
                 "width": 498, "height": 278, "variants": [
                     {"bit_rate": 0, "content_type": "video/mp4", "url": "https://video.twimg.com/g.mp4"}]},
            ],
        },
        "meta": {"result_count": 4, "newest_id": "903", "oldest_id": "900", "next_token": "abc"},
    }


def test_full_page_items() -> None:
    page = parse_timeline(page_payload(), me_id=ME)
    items = page.items
    assert_well_formed(items)
    assert page.skipped == [] and page.tweet_ids == ["900", "901", "902", "903"] and page.next_token == "abc"
    tweets = by_id(items, Tweet)
    assert set(tweets) == {"900", "901", "902", "903", "800", "700", "650"}
    rt, quote, reply, long_post = tweets["900"], tweets["901"], tweets["902"], tweets["903"]
    assert (rt.tweetType, rt.message) == ("retweet", "a photo & a link https://t.co/L https://t.co/P")
    assert (rt.retweetCount, rt.likeCount, rt.replyCount, rt.conversationId) == (5, 0, 0, "900")
    assert (quote.tweetType, quote.source, quote.message) == ("quote", "Twitter Web App", "so true @carol https://t.co/Q")
    assert (reply.tweetType, reply.inReplyToId, reply.conversationId) == ("reply", "650", "600")
    assert to_dict(reply) == {
        "type": "Tweet", "externalId": "902", "service": "twitter", "message": "@erin agreed https://t.co/V",
        "postDate": "2019-12-31T19:26:16Z", "tweetType": "reply", "lang": "en", "retweetCount": 7,
        "likeCount": 38, "inReplyToId": "650", "replyCount": 3, "conversationId": "600",
        "quoteCount": 1, "bookmarkCount": 2, "impressionCount": 1500}
    assert long_post.message == "the whole <long> text" and long_post.source is None
    assert tweets["700"].tweetType == "reply" and tweets["700"].inReplyToId == "1"  # named, not embedded
    # references: from data tweets to what they retweet, quote or reply to; included ones have none
    assert edge_pairs(items, "reference") == {("900", "800"), ("901", "700"), ("902", "650")}
    assert edge_pairs(items, "author") == {("900", ME), ("901", ME), ("902", ME), ("903", ME), ("800", "22"),
                                           ("700", "44"), ("650", "55")}
    # media: the original's photo (brought by the retweet), the reply's video and gif; not the
    # quoted tweet's photo, whose media object is not in the page
    assert edge_pairs(items, "photo") == {("800", "801")}
    assert edge_pairs(items, "video") == {("902", "903"), ("902", "904")}
    assert by_id(items, Photo)["801"] == Photo("801", "https://pbs.twimg.com/media/a.jpg", 1200, 675)
    videos = by_id(items, Video)
    assert videos["903"] == Video("903", "https://video.twimg.com/v/1280.mp4", "https://pbs.twimg.com/v.jpg",
                                  46947, False)
    assert videos["904"] == Video("904", "https://video.twimg.com/g.mp4", "https://pbs.twimg.com/g.jpg", None, True)
    # links: not media links, not the quote permalink; the retweet has none of its own
    assert edge_pairs(items, "link") == {("800", "https://example.com/a")}
    assert of(items, Website) == [Website("https://example.com/a", "example.com/a")]
    # mentions: minimal accounts; the id from the entity or (older payloads) from includes.users
    assert edge_pairs(items, "mention") == {("901", "33"), ("902", "55"), ("700", "99")}
    accounts = by_id(items, Account)
    assert to_dict(accounts["33"]) == {"type": "Account", "externalId": "33", "service": "twitter",
                                       "handle": "carol", "displayName": "Carol"}
    assert to_dict(accounts["99"]) == {"type": "Account", "externalId": "99", "service": "twitter", "handle": "zed"}
    assert accounts["55"].followersCount == 10 and accounts["55"].isMe is None  # also an author: full
    assert accounts[ME].isMe is True
    assert to_dict(accounts["22"]) == {
        "type": "Account", "externalId": "22", "service": "twitter", "handle": "bob", "displayName": "Bob",
        "description": "bio of bob", "location": "127.0.0.1", "url": "https://bob.example",
        "avatarUrl": "https://pbs.twimg.com/profile_images/1/bob_normal.jpg", "followersCount": 10,
        "followingCount": 20, "tweetCount": 30, "listedCount": 4, "verified": False, "protected": False,
        "dateJoined": "2013-12-14T04:35:55Z"}
    assert "33" not in {a for a, _ in edge_pairs(items, "author")}


def test_limit_keeps_the_first_tweets_and_only_what_they_reference() -> None:
    payload = page_payload()
    page = parse_timeline(payload, me_id=ME, limit=1)
    assert page.tweet_ids == ["900"]
    assert set(by_id(page.items, Tweet)) == {"900", "800"}
    assert set(by_id(page.items, Account)) == {ME, "22"}  # carol, dave, erin came with later tweets
    # a quote whose quoted tweet's photo came only with a discarded retweet of it gets no photo
    payload["data"] = [payload["data"][1], {**payload["data"][0], "referenced_tweets": [
        {"type": "retweeted", "id": "700"}], "attachments": {"media_keys": ["3_701"]}}]
    payload["includes"]["media"].append({"media_key": "3_701", "type": "photo", "url": "u", "width": 1,
                                         "height": 1})
    assert edge_pairs(parse_timeline(payload, limit=2).items, "photo") == {("700", "701")}
    assert edge_pairs(parse_timeline(payload, limit=1).items, "photo") == set()
    assert parse_timeline(payload, limit=0).items == []


def test_parse_tweet_reads_one_tweet_with_includes() -> None:
    payload = page_payload()
    items = parse_tweet(payload["data"][1], includes=payload["includes"], me_id=ME)
    assert_well_formed(items)
    assert set(by_id(items, Tweet)) == {"901", "700"}
    with pytest.raises(MalformedPayload):
        parse_tweet({"text": "no id"})


# -- odd objects ------------------------------------------------------------------------------


def test_odd_objects_cost_nothing_else() -> None:
    payload = page_payload()
    payload["data"].insert(1, "not a tweet")
    payload["data"].insert(2, {"text": "no id"})
    payload["data"].append(tweet("904", "404", "author not in includes",
                                 attachments={"media_keys": ["3_x", 5, "9_905"]},
                                 entities={"mentions": [{"username": "ghost"}, "x", {"id": "abc", "username": "q"}],
                                           "urls": [{"url": "https://t.co/n"}, "x", {"expanded_url": 5}]},
                                 public_metrics={"retweet_count": "12", "like_count": None},
                                 created_at="yesterday", referenced_tweets=[{"type": "quoted"}, "x"]))
    payload["includes"]["media"] += [{"media_key": "3_x", "type": "photo"}, {"media_key": "9_905", "type": "poll"}]
    page = parse_timeline(payload, me_id=ME)
    assert_well_formed(page.items)
    assert page.tweet_ids == ["900", "901", "902", "903", "904"]
    assert len(page.skipped) == 7, page.skipped
    assert any("not an object" in s for s in page.skipped) and any("without id" in s for s in page.skipped)
    assert any("404 of tweet 904 is not in includes.users" in s for s in page.skipped)
    assert any("odd media_key '3_x'" in s for s in page.skipped)
    assert any("unknown type 'poll'" in s for s in page.skipped)
    assert any("mention 'ghost' in tweet 904" in s for s in page.skipped)
    assert any("mention 'q' in tweet 904" in s for s in page.skipped)  # an id that is not one
    odd = by_id(page.items, Tweet)["904"]
    assert (odd.retweetCount, odd.likeCount, odd.postDate, odd.tweetType) == (12, None, None, "tweet")
    # the rest of the page is whole
    assert set(by_id(page.items, Tweet)) >= {"900", "901", "902", "903", "800", "700", "650"}


def test_odd_pages() -> None:
    for payload in ([], "x", {"data": {"id": "1"}}, {"data": "x"}):
        with pytest.raises(MalformedPayload):
            parse_timeline(payload)
        with pytest.raises(MalformedPayload):
            parse_users_page(payload)
    empty = parse_timeline({"meta": {"result_count": 0}})
    assert (empty.items, empty.tweet_ids, empty.next_token, empty.result_count, empty.error) == ([], [], None, 0, None)
    assert parse_timeline({}).result_count is None
    users = parse_users_page({"data": [{"id": "1", "username": "a", "name": "A"}, {"name": "no id"}, 7,
                                       {"id": "x1", "username": "b"}], "meta": {}})
    assert [u.externalId for u in users.users] == ["1"] and len(users.skipped) == 3
    assert users.next_cursor == "0"


def test_parse_user_fields() -> None:
    full = user("5", "alice", url="https://t.co/x", verified=True, protected=True)
    account = parse_user(full, me_id="5")
    assert (account.url, account.verified, account.protected, account.isMe) == ("https://t.co/x", True, True, True)
    assert parse_user(user("5", "alice")).url is None  # v2 sends "" for none
    assert parse_user({"id": "5", "public_metrics": "x", "created_at": 3}).followersCount is None
    for odd in ({"id": 5}, {"id": ""}, {"id": "12a"}, [], None):
        with pytest.raises(MalformedPayload):
            parse_user(odd)
    with pytest.raises(MalformedPayload):
        parse_user_response({"data": []})
    with pytest.raises(MalformedPayload):
        parse_user_response([])


# -- errors -----------------------------------------------------------------------------------


def raised(status: int, payload: Any) -> ProblemError:
    raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    with pytest.raises(ProblemError) as info:
        check_error(status, raw)
    assert isinstance(info.value, TwitterAPIError)
    return info.value


def test_error_answers_map_to_kinds_and_v1_codes() -> None:
    cases = [
        (401, {"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"},
         "bad-credentials", (32,)),
        (403, {"client_id": "1", "detail": "When authenticating requests to the Twitter API v2 endpoints, you "
               "must use keys and tokens from a Twitter developer App that is attached to a Project.",
               "title": "Client Forbidden", "reason": "client-not-enrolled", "type": PROBLEMS + "client-forbidden"},
         "access-level", (453,)),
        (403, {"title": "Unsupported Authentication", "detail": "Authenticating with OAuth 2.0 Application-Only "
               "is forbidden for this endpoint.", "type": PROBLEMS + "unsupported-authentication", "status": 403},
         "unsupported-authentication", (215,)),
        (429, {"title": "Too Many Requests", "detail": "Too Many Requests", "type": "about:blank", "status": 429},
         "rate-limited", (88,)),
        (429, {"title": "UsageCapExceeded", "detail": "Usage cap exceeded: Monthly product cap",
               "type": PROBLEMS + "usage-capped", "period": "Monthly", "scope": "Product"}, "usage-capped", ()),
        (404, {"title": "Not Found Error", "type": "about:blank", "status": 404}, "not-found", (34,)),
        (503, {"title": "Service Unavailable", "detail": "Service Unavailable", "type": "about:blank",
               "status": 503}, "server-error", ()),
        (401, {"errors": [{"code": 89, "message": "Invalid or expired token."}]}, "bad-credentials", (89,)),
    ]
    for status, payload, kind, codes in cases:
        err = raised(status, payload)
        assert (err.status, err.kind, err.codes) == (status, kind, codes), payload
        assert err.message and err.problems[0].kind == kind
    invalid = raised(400, {"errors": [{"parameters": {"max_results": ["1"]}, "message":
                                       "The `max_results` query parameter value [1] is not between 5 and 100"}],
                           "title": "Invalid Request", "detail": "One or more parameters to your request was invalid.",
                           "type": PROBLEMS + "invalid-request"})
    assert (invalid.kind, invalid.codes) == ("invalid-request", ())
    assert "not between 5 and 100" in invalid.message and len(invalid.problems) == 1
    html = raised(502, b"<html><head><title>Twitter / Over capacity</title></head></html>")
    assert (html.kind, html.codes, html.message) == ("server-error", (), "Twitter / Over capacity")
    assert raised(401, b"").kind == "bad-credentials" and raised(401, b"").codes == (32,)
    with pytest.raises(MalformedPayload):
        check_error(200, b'{"data": [')
    assert check_error(200, b'{"errors": [{"title": "x"}]}') is None  # 2xx errors never raise here


def test_errors_inside_200_answers() -> None:
    protected = {"errors": [{
        "detail": "Sorry, you are not authorized to see the user with id: [11].", "parameter": "id",
        "resource_id": "11", "resource_type": "user", "section": "data", "title": "Authorization Error",
        "type": PROBLEMS + "not-authorized-for-resource", "value": "11"}]}
    page = parse_timeline(protected)
    assert page.items == [] and not page.has_data
    [problem] = page.errors
    assert problem == Problem(
        kind="not-authorized", problem="not-authorized-for-resource", type=PROBLEMS + "not-authorized-for-resource",
        title="Authorization Error", detail="Sorry, you are not authorized to see the user with id: [11].",
        resource_type="user", resource_id="11", parameter="id", value="11", section="data")
    assert (page.error.status, page.error.kind, page.error.codes) == (200, "not-authorized", (179,))
    assert parse_users_page(protected).error.kind == "not-authorized"
    # partial errors beside data: reported, not an error of the page
    partial = page_payload()
    partial["errors"] = [{"resource_id": "1", "resource_type": "tweet", "title": "Not Found Error",
                          "type": PROBLEMS + "resource-not-found", "detail": "Could not find tweet with id: [1]."}]
    page = parse_timeline(partial)
    assert page.error is None and [p.kind for p in page.errors] == ["resource-not-found"]
    assert len(page.tweet_ids) == 4


def test_missing_and_suspended_users_raise() -> None:
    missing = {"errors": [{"value": "nobody", "detail": "Could not find user with username: [nobody].",
                           "title": "Not Found Error", "resource_type": "user", "parameter": "username",
                           "resource_id": "nobody", "type": PROBLEMS + "resource-not-found"}]}
    suspended = {"errors": [{"parameter": "username", "resource_id": "x", "value": "x",
                             "detail": "User has been suspended: [x].", "title": "Forbidden",
                             "resource_type": "user", "type": PROBLEMS + "resource-not-found"}]}
    for payload, kind, codes in ((missing, "user-not-found", (50,)), (suspended, "user-suspended", (63,))):
        with pytest.raises(ProblemError) as info:
            parse_user_response(copy.deepcopy(payload))
        assert (info.value.status, info.value.kind, info.value.codes) == (200, kind, codes)
        assert info.value.message == payload["errors"][0]["detail"]
    assert problems_of([]) == [] and problems_of({"data": {}}) == []
    assert problems_of({"errors": ["plain"]}, 500)[0].kind == "server-error"


def test_stop_problems_are_caps_402s_and_unknown_types_never_rate_limits() -> None:
    """X_API_2026.md §4: a usage cap and any 4xx problem waiting cannot cure mean "stop"; rate
    limits, 429s without a readable problem, v1.1 bodies and per-resource errors do not."""
    from twitter_crawler.api.v2.parse import stop_problem_of

    def body(obj: Any) -> bytes:
        return json.dumps(obj).encode()

    cap = stop_problem_of(429, body({
        "account_id": "1", "product_name": "standard-basic", "title": "UsageCapExceeded",
        "period": "Daily", "scope": "Account", "detail": "Usage cap exceeded: Daily product cap",
        "type": PROBLEMS + "usage-capped"}))
    assert cap is not None
    assert (cap.problem, cap.period, cap.scope, cap.title) == (
        "usage-capped", "Daily", "Account", "UsageCapExceeded")
    credits = stop_problem_of(402, body({"title": "CreditsDepleted", "detail": "no credits",
                                         "type": PROBLEMS + "credits"}))
    assert credits is not None and (credits.title, credits.detail) == ("CreditsDepleted", "no credits")
    bare_402 = stop_problem_of(402, b"<html>Payment Required</html>")
    assert bare_402 is not None and "Payment Required" in (bare_402.detail or "")
    unknown = stop_problem_of(403, body({"title": "New", "detail": "d", "type": PROBLEMS + "new"}))
    assert unknown is not None and unknown.problem == "new"
    not_stops = [
        (429, body({"title": "Too Many Requests", "type": "about:blank", "status": 429})),
        (429, body({"title": "Too Many Requests", "type": PROBLEMS + "rate-limit-exceeded"})),
        (429, body({"errors": [{"code": 88, "message": "Rate limit exceeded"}]})),
        (429, b"Too Many Requests"),
        (429, b""),
        (401, body({"title": "Unauthorized", "type": PROBLEMS + "whatever"})),
        (403, body({"title": "Client Forbidden", "type": PROBLEMS + "client-forbidden"})),
        (400, body({"title": "Invalid Request", "type": PROBLEMS + "invalid-request"})),
        (404, body({"title": "Not Found Error", "type": "about:blank"})),
        (403, body({"errors": [{"code": 63, "message": "User has been suspended."}]})),
        (200, body({"errors": [{"title": "X", "type": PROBLEMS + "new"}]})),
        (503, body({"title": "Service Unavailable", "type": PROBLEMS + "new"})),
    ]
    for status, raw in not_stops:
        assert stop_problem_of(status, raw) is None, (status, raw)
