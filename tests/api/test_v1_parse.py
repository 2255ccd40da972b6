"""twitter_crawler.api.v1.parse against the real recorded v1.1 payloads, and odd objects.

Every count below was checked by hand against the recording it names (see the comments).
"""

from __future__ import annotations

import copy
import json
from collections import Counter
from pathlib import Path

import pytest

import twitter_emulator
from twitter_crawler.api.common import source_name, to_iso_utc
from twitter_crawler.api.v1.parse import (
    IdsPage,
    TimelinePage,
    UsersPage,
    check_error,
    load_json,
    load_response,
    parse_ids_page,
    parse_lookup,
    parse_rate_limit_status,
    parse_timeline,
    parse_tweet,
    parse_user,
    parse_users_page,
)
from twitter_crawler.exceptions import MalformedPayload, TwitterAPIError
from twitter_crawler.items import Account, Edge, Photo, Tweet, Video, Website, item_key, to_dict

RECORDINGS = Path(twitter_emulator.__file__).parent / "recordings" / "twitter-v1.1"


def body(name: str) -> bytes:
    return (RECORDINGS / f"pytwitter__{name}.body.json").read_bytes()


def payload(name: str):
    return json.loads(body(name))


def of(items, cls):
    return [i for i in items if isinstance(i, cls)]


def by_id(items, cls):
    return {i.externalId: i for i in items if isinstance(i, cls)}


def edges(items, name):
    return [i for i in items if isinstance(i, Edge) and i.name == name]


def edge_pairs(items, name):
    """{(source id, target id or url)} of the edges called ``name``."""
    return {
        (e.source["externalId"], e.target.get("externalId") or e.target["url"])
        for e in edges(items, name)
    }


def assert_well_formed(items):
    """Each key once; nodes in the order accounts, tweets, media/websites, edges; every edge's
    endpoints earlier in the list; ids are strings."""
    keys = [item_key(i) for i in items]
    assert len(keys) == len(set(keys))
    rank = {"Account": 0, "Tweet": 1, "Photo": 2, "Video": 2, "Website": 2, "Edge": 3}
    ranks = [rank[i.type] for i in items]
    assert ranks == sorted(ranks)
    seen = set()
    for item in items:
        if isinstance(item, Edge):
            for end in (item.source, item.target):
                key = (end["type"], end.get("externalId") or end["url"])
                assert key in seen, f"{item} before its endpoint {key}"
        else:
            key = item_key(item)
            seen.add(key[:2])
            if item.type != "Website":
                assert isinstance(item.externalId, str) and item.externalId.isdigit()


def tweet_types(items):
    return Counter(t.tweetType for t in of(items, Tweet))


# ------------------------------------------------------------------------------------------
# statuses/user_timeline: 63 tweets of @jack (id 12), compat mode


@pytest.fixture(scope="module")
def jack_page() -> TimelinePage:
    return parse_timeline(payload("get_user_timeline_count"), me_id="12")


def test_timeline_count_page_shape(jack_page):
    page = jack_page
    assert page.skipped == []
    assert len(page.tweet_ids) == 63
    assert page.tweet_ids[0] == "759227111810985984"  # payload order, newest first
    assert page.min_id == "754074430154743808"
    assert page.max_id == "759227111810985984"
    assert_well_formed(page.items)


def test_timeline_count_tweets(jack_page):
    items = jack_page.items
    # 63 own statuses: 35 retweets, 10 replies, 18 plain tweets. Embedded: 35 retweeted originals
    # (1 of them a quote, 2 of them replies, 32 plain) and the status quoted by that quote (plain).
    assert len(of(items, Tweet)) == 63 + 35 + 1
    assert tweet_types(items) == {"retweet": 35, "reply": 10 + 2, "quote": 1, "tweet": 18 + 32 + 1}
    # one author edge per tweet: every status in this payload has its user
    assert len(edges(items, "author")) == 99
    # 35 retweet → original, 1 quote → quoted
    assert len(edges(items, "reference")) == 36
    # mentions: 21 in jack's own non-retweets + 10 in the retweeted originals (wrappers get none)
    assert len(edges(items, "mention")) == 31
    # links: 36 url entities on non-wrapper tweets, 30 distinct expanded urls
    assert len(edges(items, "link")) == 36
    assert len(of(items, Website)) == 30
    # 52 distinct accounts (authors of tweets, originals, the quoted one, and mentioned accounts)
    assert len(of(items, Account)) == 52


def test_timeline_count_media(jack_page):
    items = jack_page.items
    # photos: 2 on jack's own tweets + 17 on retweeted originals (one with 3, one with 4)
    assert len(of(items, Photo)) == 19
    assert len(edges(items, "photo")) == 19
    videos = of(items, Video)
    # GIFs: 5 retweeted originals + the quoted status in the retweeted quote; 1 real video
    assert Counter(v.isGif for v in videos) == {True: 6, False: 1}
    assert len(edges(items, "video")) == 7

    photo = by_id(items, Photo)["757222902999556096"]  # 2nd photo of @CAL_FIRE's original
    assert (photo.url, photo.width, photo.height) == (
        "https://pbs.twimg.com/media/CoIyN-UUIAAUgdN.jpg",
        1800,
        1200,
    )
    video = by_id(items, Video)["754141705843183616"]  # @BNONews, retweeted by jack
    # 832000 beats 320000; the m3u8 and mpd variants are not mp4
    assert video.url == (
        "https://video.twimg.com/ext_tw_video/754141705843183616/pu/vid/352x640/"
        "qITug-uwlfVj1JvM.mp4"
    )
    assert video.thumbnailUrl == (
        "https://pbs.twimg.com/ext_tw_video_thumb/754141705843183616/pu/img/roUJkU18uA06oPHq.jpg"
    )
    assert video.durationMs == 139967
    assert video.isGif is False
    gif = by_id(items, Video)["758508145652170752"]  # in the quoted status, entities say "photo"
    assert gif.isGif is True
    assert gif.durationMs is None  # no duration_millis for this GIF
    assert gif.url == "https://pbs.twimg.com/tweet_video/CobDI8TWgAAYlBl.mp4"  # bitrate 0
    assert gif.thumbnailUrl == "https://pbs.twimg.com/tweet_video_thumb/CobDI8TWgAAYlBl.jpg"
    # the media belong to the originals, never to jack's retweet wrappers
    assert ("754151418920075264", "754141705843183616") in edge_pairs(items, "video")
    assert all(src != "754167934646259712" for src, _ in edge_pairs(items, "video"))


def test_timeline_count_retweet_fields(jack_page):
    items = jack_page.items
    tweets = by_id(items, Tweet)
    wrapper = tweets["756924458820968449"]
    original = tweets["756907320508952576"]
    # the wrapper's text is "RT @Reince: David Duke &amp; ... under any cir…"; the message is the
    # original's full text with &amp; decoded
    expected = (
        "David Duke & his hateful bigotry have no place in the Republican Party & the RNC will "
        "never support his candidacy under any circumstance"
    )
    assert wrapper.message == expected
    assert original.message == expected
    assert wrapper.tweetType == "retweet"
    assert wrapper.source == "Twitter for  iPhone"  # verbatim app name (two spaces in the payload)
    assert original.source == "TweetDeck"
    assert wrapper.postDate == "2016-07-23T18:50:28Z"
    assert original.postDate == "2016-07-23T17:42:22Z"
    assert (wrapper.retweetCount, wrapper.likeCount) == (3033, 0)
    assert (original.retweetCount, original.likeCount) == (3033, 5702)
    assert wrapper.lang == "en"
    assert wrapper.inReplyToId is None
    assert ("756924458820968449", "756907320508952576") in edge_pairs(items, "reference")
    assert ("756924458820968449", "12") in edge_pairs(items, "author")
    assert ("756907320508952576", "20733972") in edge_pairs(items, "author")  # @Reince


def test_timeline_count_retweet_wrappers_have_no_entities(jack_page):
    items = jack_page.items
    wrappers = {t.externalId for t in of(items, Tweet) if t.tweetType == "retweet"}
    for name in ("mention", "link", "photo", "video"):
        assert not {src for src, _ in edge_pairs(items, name)} & wrappers
    # "RT @tristanwalker: Me + @jack ... @CODE2040": the wrapper's entities list 3 mentions
    # (tristanwalker, jack, CODE2040); the original's list 2, and only those are imported
    assert {t for s, t in edge_pairs(items, "mention") if s == "759225577027072000"} == {
        "12",
        "481647429",
    }
    assert ("759225577027072000", "18206161") in edge_pairs(items, "author")  # @tristanwalker


def test_timeline_count_retweeted_quote(jack_page):
    items = jack_page.items
    tweets = by_id(items, Tweet)
    assert tweets["758520161947136000"].tweetType == "retweet"  # is_quote_status is true too
    quote = tweets["758519859470700544"]
    assert quote.tweetType == "quote"
    assert quote.message == "man https://t.co/d3jYue5ayg"
    assert quote.lang == "und"
    quoted = tweets["758514276185374720"]
    assert quoted.tweetType == "tweet"
    assert quoted.message == "https://t.co/VLKYVnkjdv"
    refs = edge_pairs(items, "reference")
    assert ("758520161947136000", "758519859470700544") in refs
    assert ("758519859470700544", "758514276185374720") in refs
    assert ("758514276185374720", "412008580") in edge_pairs(items, "author")  # @BroderickGreer
    # the quote's own link (to the quoted tweet) is a Website; the quoted status's media t.co url
    # is not
    link = "https://twitter.com/BroderickGreer/status/758514276185374720"
    assert ("758519859470700544", link) in edge_pairs(items, "link")
    assert not [s for s, _ in edge_pairs(items, "link") if s == "758514276185374720"]


def test_timeline_count_reply_and_accounts(jack_page):
    items = jack_page.items
    reply = by_id(items, Tweet)["759098843753357315"]
    assert reply.tweetType == "reply"
    assert reply.inReplyToId == "759098515196960768"
    assert reply.message == "@narendra @NateSilver538 same"
    assert reply.postDate == "2016-07-29T18:50:42Z"
    assert (reply.retweetCount, reply.likeCount) == (2, 6)
    mentioned = {t for s, t in edge_pairs(items, "mention") if s == reply.externalId}
    assert mentioned == {"1075", "16017475"}
    # replies never get a reference edge in v1.1 (items.py rule)
    assert not [s for s, _ in edge_pairs(items, "reference") if s == reply.externalId]

    accounts = by_id(items, Account)
    narendra = accounts["1075"]  # mention only: minimal
    assert to_dict(narendra) == {
        "type": "Account",
        "externalId": "1075",
        "service": "twitter",
        "handle": "narendra",
        "displayName": "Narendra Rocherolle",
    }
    jack = accounts["12"]  # author (full) and mentioned in originals (minimal): merged, once
    assert jack.handle == "jack"
    assert jack.displayName == "Jack"
    assert jack.isMe is True
    assert jack.verified is True
    assert jack.protected is False
    assert jack.description == ""
    assert jack.location == "California, USA"
    assert jack.url is None
    assert (jack.followersCount, jack.followingCount, jack.tweetCount, jack.listedCount) == (
        3790844,
        2090,
        20052,
        26558,
    )
    assert jack.dateJoined == "2006-03-21T20:50:14Z"
    assert jack.avatarUrl == (
        "https://pbs.twimg.com/profile_images/668328458519384064/FSAIjKRl_normal.jpg"
    )
    assert accounts["20733972"].isMe is None  # a full author who is not me


def test_timeline_count_source_variants(jack_page):
    own = set(jack_page.tweet_ids)
    sources = Counter(t.source for t in of(jack_page.items, Tweet) if t.externalId in own)
    assert sources == {"Twitter for  iPhone": 42, "Twitter for iPhone": 19, "iOS": 2}


# ------------------------------------------------------------------------------------------
# statuses/user_timeline: 20 tweets of @dewitt (id 673483)


def test_timeline_dewitt():
    page = parse_timeline(payload("get_user_timeline"), me_id="673483")
    items = page.items
    assert page.skipped == []
    assert len(page.tweet_ids) == 20
    assert (page.min_id, page.max_id) == ("668206245971562496", "675055636267298821")
    assert_well_formed(items)
    # 20 own: 8 replies, 1 quote (with its quoted status embedded), 11 plain; + the quoted one
    assert tweet_types(items) == {"reply": 8, "quote": 1, "tweet": 12}
    assert len(edges(items, "author")) == 21
    assert len(edges(items, "reference")) == 1
    assert len(edges(items, "mention")) == 7
    assert len(edges(items, "link")) == 6
    assert len(of(items, Website)) == 6
    assert len(of(items, Photo)) == 4  # 3 own + 1 in the quoted status
    assert [(v.externalId, v.isGif, v.durationMs) for v in of(items, Video)] == [
        ("670676143352102912", True, None)  # extended_entities: animated_gif; entities: photo
    ]
    assert len(of(items, Account)) == 8  # dewitt, xeni (quoted author) and 6 mentioned

    tweets = by_id(items, Tweet)
    quote = tweets["671755091368546304"]
    assert quote.tweetType == "quote"
    assert ("671755091368546304", "671749140251090944") in edge_pairs(items, "reference")
    assert tweets["671749140251090944"].source == "Buffer"
    assert tweets["675055636267298821"].postDate == "2015-12-10T20:53:00Z"
    # a self-reply whose target is on this page: inReplyToId, and no reference edge in v1.1
    assert tweets["670679827960041472"].inReplyToId == "670676153867198464"
    assert tweets["670679827960041472"].tweetType == "reply"
    # the t.co of a photo is not a link; the other url of the same tweet is
    assert {t for s, t in edge_pairs(items, "link") if s == "671906565062979585"} == {
        "http://wso.williams.edu"
    }
    assert by_id(items, Photo)["671906564559650816"].height == 767
    dewitt = by_id(items, Account)["673483"]
    assert dewitt.url == "https://google.com/+dewittclinton"  # entities.url expanded
    assert dewitt.dateJoined == "2007-01-21T01:07:00Z"
    assert dewitt.isMe is True


def test_timeline_sincemax():
    page = parse_timeline(payload("get_user_timeline_sincemax"), me_id="12")
    items = page.items
    assert page.skipped == []
    assert page.tweet_ids == [
        "758097930670645248",
        "758072261064597505",
        "758071940112277504",
        "757986440818987008",
        "757942989217935360",
        "757784173826322432",
    ]
    # max_id is inclusive: the request's max_id is the page's newest
    assert page.max_id == "758097930670645248"
    assert page.min_id == "757784173826322432"
    assert_well_formed(items)
    assert tweet_types(items) == {"retweet": 2, "reply": 2, "tweet": 2 + 2}
    assert len(edges(items, "reference")) == 2
    assert len(edges(items, "mention")) == 7  # 1 + 5 in the replies, 1 in @Square's original
    assert len(edges(items, "link")) == 3
    assert len(of(items, Photo)) == 1
    assert len(of(items, Video)) == 0
    assert len(of(items, Account)) == 10


def test_timeline_pages_agree():
    """The 6-tweet page is a slice of the 63-tweet page: same items for the same tweets."""
    small = parse_timeline(payload("get_user_timeline_sincemax"), me_id="12")
    big = by_id(parse_timeline(payload("get_user_timeline_count"), me_id="12").items, Tweet)
    for tweet in of(small.items, Tweet):
        assert big[tweet.externalId] == tweet


# ------------------------------------------------------------------------------------------
# One status in extended and compat mode


def test_extended_mode_status():
    items = parse_tweet(payload("3.2_extended_tweet_in_extended_mode"), me_id="4012966701")
    assert_well_formed(items)
    (tweet,) = of(items, Tweet)
    assert tweet.externalId == "782737772490600448"
    assert tweet.message == (
        "has more details about these changes.  Thanks for making more expressive!writing "
        "requirements to python_twitt python_twitter.egg-info/SOURCE https://t.co/JWSPztfoyt"
    )
    assert tweet.tweetType == "tweet"
    assert tweet.postDate == "2016-10-03T00:23:22Z"
    assert tweet.source == "Twitter Web Client"
    (photo,) = of(items, Photo)
    assert to_dict(photo) == {
        "type": "Photo",
        "externalId": "782737766455119872",
        "url": "https://pbs.twimg.com/media/CtzX2fnXEAAMAjK.jpg",
        "width": 1024,
        "height": 1024,
    }
    assert of(items, Website) == []  # the only t.co is the photo's
    (account,) = of(items, Account)
    assert account.protected is True
    assert account.isMe is True
    assert account.url is None
    assert [e.name for e in of(items, Edge)] == ["author", "photo"]


def test_compat_mode_status():
    compat = parse_tweet(payload("3.2_extended_tweet_in_compat_mode"), me_id=None)
    extended = parse_tweet(payload("3.2_extended_tweet_in_extended_mode"), me_id=None)
    assert_well_formed(compat)
    (c_tweet,) = of(compat, Tweet)
    (e_tweet,) = of(extended, Tweet)
    # compat text is cut at 140 characters: it is a prefix of the full text plus "… <link>"
    assert c_tweet.message != e_tweet.message
    assert c_tweet.message.endswith("pytho… https://t.co/et3OTOxWSa")
    head = c_tweet.message.split("…")[0]
    assert e_tweet.message.startswith(head)
    # everything else agrees
    for name in ("externalId", "postDate", "tweetType", "lang", "source"):
        assert getattr(c_tweet, name) == getattr(e_tweet, name)
    assert (c_tweet.retweetCount, c_tweet.likeCount) == (e_tweet.retweetCount, e_tweet.likeCount)
    # compat has no media entity, and its only url is the "…" link to the tweet itself: no Website
    assert of(compat, Photo) == [] and of(compat, Website) == []
    assert of(compat, Account) == of(extended, Account)
    assert of(compat, Account)[0].isMe is None  # me_id unknown
    assert [e.name for e in of(compat, Edge)] == ["author"]


# ------------------------------------------------------------------------------------------
# Users


KESUKE = {
    "type": "Account",
    "externalId": "718443",
    "service": "twitter",
    "handle": "kesuke",
    "displayName": "Kesuke Miyagi",
    "description": "私のホバークラフト は鰻が一杯です。",
    "location": "Okinawa, Japan",
    "avatarUrl": "https://pbs.twimg.com/profile_images/21525032/kesuke_normal.png",
    "followersCount": 22,
    "followingCount": 1,
    "tweetCount": 10,
    "listedCount": 6,
    "verified": False,
    "protected": False,
    "dateJoined": "2007-01-28T06:31:55Z",
    "isMe": True,
}


def test_users_show():
    account = parse_user(payload("get_user"), me_id="718443")
    assert to_dict(account) == KESUKE  # url null → absent; embedded status not imported
    assert parse_user(payload("get_user"), me_id="12").isMe is None


def test_users_lookup():
    accounts = parse_lookup(payload("users_lookup"), me_id="718443")
    assert [to_dict(a) for a in accounts] == [KESUKE]


def test_followers_pages():
    first = parse_users_page(payload("get_followers_0"))
    assert isinstance(first, UsersPage)
    assert len(first.users) == 200
    assert first.next_cursor == "1516850034842747602"
    assert first.previous_cursor == "0"
    assert first.skipped == []
    assert sum(u.verified for u in first.users) == 9
    assert sum(u.protected for u in first.users) == 12
    assert sum(u.url is not None for u in first.users) == 83
    assert all(u.isMe is None for u in first.users)  # me_id not given
    assert to_dict(first.users[0]) == {
        "type": "Account",
        "externalId": "2386149065",
        "service": "twitter",
        "handle": "hkarolam",
        "displayName": "akyoka",
        "description": "facebook \nakyoka v región",
        "location": "",
        "avatarUrl": "https://pbs.twimg.com/profile_images/676766980372832256/4v5XUzBe_normal.jpg",
        "followersCount": 346,
        "followingCount": 2028,
        "tweetCount": 2301,
        "listedCount": 2,
        "verified": False,
        "protected": False,
        "dateJoined": "2014-03-05T18:48:39Z",
    }
    brad = first.users[14]
    assert (brad.externalId, brad.handle) == ("22215485", "wxbrad")
    assert brad.displayName == "Brad Panovich"
    assert brad.url == "http://about.me/wxbrad"  # expanded, not http://t.co/gYY0LbMcK7
    assert brad.verified is True
    assert brad.tweetCount == 167262
    assert brad.dateJoined == "2009-02-28T01:31:48Z"

    last = parse_users_page(payload("get_followers_1"), me_id="12")
    assert len(last.users) == 135
    assert last.next_cursor == "0"
    assert last.previous_cursor == "-1516840684967804231"
    assert sum(u.verified for u in last.users) == 6
    assert sum(u.protected for u in last.users) == 4
    assert all(u.isMe is None for u in last.users)
    jeremy = last.users[-1]
    assert (jeremy.externalId, jeremy.handle, jeremy.url) == (
        "372018022",
        "__jcbl__",
        "http://iseverythingstilltheworst.com",
    )
    assert {u.externalId for u in first.users}.isdisjoint({u.externalId for u in last.users})


FRIEND_PAGES = [
    # (users, next_cursor, previous_cursor)
    (200, "1494734862149901956", "0"),
    (200, "1489123725664322527", "-1494685098210881400"),
    (200, "1488977745323208956", "-1489123720614746884"),
    (200, "1488949918508686286", "-1488977629350241687"),
    (19, "0", "-1488949916577120071"),
]


@pytest.mark.parametrize("index", range(5))
def test_friends_pages(index):
    page = parse_users_page(payload(f"get_friends_{index}"))
    assert (len(page.users), page.next_cursor, page.previous_cursor) == FRIEND_PAGES[index]
    assert page.skipped == []
    assert all(isinstance(u, Account) for u in page.users)  # embedded statuses are not imported


def test_friends_chain():
    ids = set()
    cursor = "-1"
    for index in range(5):
        page = parse_users_page(payload(f"get_friends_{index}"))
        ids |= {u.externalId for u in page.users}
        cursor = page.next_cursor
    assert cursor == "0"
    assert len(ids) == 819
    first = parse_users_page(payload("get_friends_0")).users[0]
    assert (first.handle, first.url) == ("danluu", "http://danluu.com")  # not the t.co url
    assert first.location == "Seattle, WA"
    assert (first.followersCount, first.followingCount, first.tweetCount, first.listedCount) == (
        2884,
        118,
        685,
        70,
    )
    assert first.dateJoined == "2008-12-21T00:21:46Z"
    nick = parse_users_page(payload("get_friends_4")).users[0]
    assert (nick.externalId, nick.handle, nick.url) == (
        "2218683102",
        "nthomasftang",
        "http://ftangftang.wordpress.com",
    )


@pytest.mark.parametrize(
    "name, count, first, last, next_cursor, previous_cursor",
    [
        ("get_follower_ids_0", 5000, "4727569094", "2447217714", "1482201362283529597", "0"),
        ("get_follower_ids_1", 2885, "18568359", "624515774", "0", "-1482172157213781578"),
        ("get_friend_ids_0", 5000, "174716364", "7848802", "1417903878302254556", "0"),
        ("get_friend_ids_1", 1452, "485963620", "110595088", "0", "-1417901385419688902"),
    ],
)
def test_ids_pages(name, count, first, last, next_cursor, previous_cursor):
    page = parse_ids_page(payload(name))  # the recordings have integer ids
    assert isinstance(page, IdsPage)
    assert len(page.ids) == len(set(page.ids)) == count
    assert (page.ids[0], page.ids[-1]) == (first, last)
    assert all(type(i) is str for i in page.ids)
    assert (page.next_cursor, page.previous_cursor) == (next_cursor, previous_cursor)
    assert page.skipped == []


def test_ids_page_with_string_ids():
    data = payload("get_friend_ids_1")
    data["ids"] = [str(i) for i in data["ids"]]
    assert parse_ids_page(data).ids == parse_ids_page(payload("get_friend_ids_1")).ids


def test_rate_limit_status():
    limits = parse_rate_limit_status(payload("ratelimit"))
    timeline = limits["/statuses/user_timeline"]
    assert (timeline.limit, timeline.remaining, timeline.reset) == (180, 180, 1452254278)
    assert limits["/users/lookup"].limit == 180


# ------------------------------------------------------------------------------------------
# Errors and bodies


def test_protected_timeline_401():
    with pytest.raises(TwitterAPIError) as caught:
        check_error(401, body("test_error_handling__protected_401"))
    assert caught.value.status == 401
    assert caught.value.codes == ()
    assert caught.value.message == "Not authorized."


@pytest.mark.parametrize(
    "status, raw, codes, message",
    [
        (
            429,
            b'{"errors":[{"code":88,"message":"Rate limit exceeded"}]}',
            (88,),
            "Rate limit exceeded",
        ),
        (404, b'{"errors":[{"code":50,"message":"User not found."}]}', (50,), "User not found."),
        (
            403,
            b'{"errors":[{"code":63,"message":"User has been suspended."}]}',
            (63,),
            "User has been suspended.",
        ),
        (
            401,
            b'{"errors":[{"code":32,"message":"Could not authenticate you."},'
            b'{"code":135,"message":"Timestamp out of bounds."}]}',
            (32, 135),
            "Could not authenticate you.; Timestamp out of bounds.",
        ),
        (
            503,
            b"<html><head><title>Twitter / Over capacity</title></head></html>",
            (),
            "Twitter / Over capacity",
        ),
        (502, b"Bad Gateway", (), "Bad Gateway"),
        (500, b"", (), ""),
        (
            500,
            b'{"errors":[{"code":"131","message":"Internal error."}]}',  # code as a string
            (131,),
            "Internal error.",
        ),
    ],
)
def test_check_error(status, raw, codes, message):
    with pytest.raises(TwitterAPIError) as caught:
        check_error(status, raw)
    error = caught.value
    assert (error.status, error.codes, error.message) == (status, codes, message)


def test_check_error_453():
    message = "You currently have access to a subset of Twitter API v2 endpoints"
    raw = json.dumps({"errors": [{"message": message, "code": 453}]}).encode()
    with pytest.raises(TwitterAPIError) as caught:
        check_error(403, raw)
    assert caught.value.codes == (453,)


def test_check_error_ok_and_truncated():
    raw = body("get_user_timeline_sincemax")
    assert check_error(200, raw) is None
    assert load_response(200, raw) == json.loads(raw)
    with pytest.raises(MalformedPayload):
        check_error(200, raw[: len(raw) // 2])
    with pytest.raises(MalformedPayload):
        check_error(200, b"")
    with pytest.raises(TwitterAPIError):
        load_response(401, body("test_error_handling__protected_401"))


def test_load_json():
    assert load_json(b'{"a": 1}') == {"a": 1}
    for bad in (b'[{"id_str": "1"', b"<html>", b"\xff\xfe\x00", b""):
        with pytest.raises(MalformedPayload):
            load_json(bad)


# ------------------------------------------------------------------------------------------
# Odd objects


def status(**fields):
    base = {
        "id_str": "100",
        "id": 100,
        "created_at": "Sat Jul 16 04:17:02 +0000 2016",
        "full_text": "hello &lt;b&gt; &amp; bye",
        "source": "web",
        "user": {"id_str": "7", "screen_name": "seven", "name": "Seven"},
        "entities": {"urls": [], "user_mentions": []},
    }
    base.update(fields)
    return base


def test_minimal_status():
    items = parse_tweet(status(), me_id="7")
    (tweet,) = of(items, Tweet)
    assert to_dict(tweet) == {
        "type": "Tweet",
        "externalId": "100",
        "service": "twitter",
        "message": "hello <b> & bye",
        "postDate": "2016-07-16T04:17:02Z",
        "tweetType": "tweet",
        "source": "web",
    }
    assert of(items, Account)[0].isMe is True


def test_status_without_user():
    items = parse_tweet(status(user=None), me_id=None)
    assert [i.type for i in items] == ["Tweet"]
    items = parse_tweet({"id_str": "5"}, me_id=None)  # almost nothing: still a tweet
    assert [to_dict(i) for i in items] == [
        {"type": "Tweet", "externalId": "5", "service": "twitter", "tweetType": "tweet"}
    ]


def test_status_with_null_or_odd_entities():
    for entities in (None, [], "x", {"urls": None, "user_mentions": None, "media": None}):
        items = parse_tweet(status(entities=entities, extended_entities=entities), me_id=None)
        assert len(of(items, Tweet)) == 1
        assert [e.name for e in of(items, Edge)] == ["author"]
    entities = {
        "urls": [
            None,
            {"url": "https://t.co/a"},
            {"expanded_url": None},
            {"expanded_url": "https://e.x", "url": "https://t.co/b"},
        ],
        "user_mentions": [
            None,
            {"id": 9, "screen_name": "nine"},
            {"id_str": "8", "screen_name": "eight"},
        ],
        "media": [
            {"id": 3, "type": "photo"},
            {"id_str": "4", "type": "photo", "sizes": None},
            {"id_str": "6", "type": "hologram"},
        ],
    }
    skipped: list[str] = []
    items = parse_tweet(status(entities=entities), me_id=None, skipped=skipped)
    # reasons for: the mention with a numeric id only, the media with a numeric id only, the
    # media of unknown type (entries that are not objects or have no expanded_url are just ignored)
    assert len(skipped) == 3
    assert [w.url for w in of(items, Website)] == ["https://e.x"]  # no expanded_url: skipped
    assert [a.externalId for a in of(items, Account)] == ["7", "8"]  # numeric-only id: skipped
    assert [to_dict(p) for p in of(items, Photo)] == [{"type": "Photo", "externalId": "4"}]
    assert sorted(e.name for e in of(items, Edge)) == ["author", "link", "mention", "photo"]


def test_unhashable_or_missing_urls():
    entities = {
        "urls": [{"url": ["odd"], "expanded_url": "https://a.x"}, {"expanded_url": "https://b.x"}],
        "media": [{"id_str": "4", "type": "photo", "url": {"odd": 1}}, {"id_str": "5", "type": "photo"}],
    }
    items = parse_tweet(status(entities=entities), me_id=None)
    assert [w.url for w in of(items, Website)] == ["https://a.x", "https://b.x"]
    assert [p.externalId for p in of(items, Photo)] == ["4", "5"]


def test_numeric_only_ids():
    with pytest.raises(MalformedPayload):
        parse_tweet({"id": 782737772490600448, "text": "x"}, me_id=None)
    with pytest.raises(MalformedPayload):
        parse_user({"id": 718443, "screen_name": "kesuke"}, me_id=None)
    items = parse_tweet(status(user={"id": 7, "screen_name": "seven"}), me_id=None)
    assert [i.type for i in items] == ["Tweet"]  # the author cannot be keyed: left out


def test_timeline_keeps_the_rest_of_the_page():
    statuses = payload("get_user_timeline_sincemax")
    odd = [
        None,
        "string",
        {"id": 1, "text": "numeric id only"},
        status(id_str="101", user="not a user", entities=None),
        status(id_str="102", retweeted_status={"id": 5, "text": "original without id_str"}),
        status(id_str="103", created_at="yesterday", retweet_count="12", favorite_count=None),
    ]
    page = parse_timeline(odd[:3] + statuses + odd[3:], me_id="12")
    assert len(page.skipped) == 4  # None, "string", numeric id, the original without id_str
    assert any("id_str" in reason for reason in page.skipped)
    assert page.tweet_ids == [s["id_str"] for s in statuses] + ["101", "102", "103"]
    assert page.min_id == "101"
    assert_well_formed(page.items)
    tweets = by_id(page.items, Tweet)
    assert len(tweets) == 6 + 2 + 3
    assert tweets["102"].tweetType == "retweet"
    assert tweets["102"].message == "original without id_str"
    assert not [e for e in edges(page.items, "reference") if e.source["externalId"] == "102"]
    odd = tweets["103"]
    assert (odd.postDate, odd.retweetCount, odd.likeCount) == (None, 12, None)
    assert not [e for e in edges(page.items, "author") if e.source["externalId"] == "101"]


def test_retweeted_status_without_user():
    """As in the status embedded in a user object: the original has no `user`."""
    original = status(id_str="200", user=None, full_text="the original")
    retweet = status(id_str="201", full_text="RT @x: the orig…", retweeted_status=original)
    items = parse_tweet(retweet, me_id="7")
    tweets = by_id(items, Tweet)
    assert tweets["201"].message == "the original"
    assert tweets["201"].tweetType == "retweet"
    assert edge_pairs(items, "reference") == {("201", "200")}
    assert edge_pairs(items, "author") == {("201", "7")}


def test_quote_without_quoted_status():
    quote = status(is_quote_status=True, quoted_status=None, quoted_status_id_str="9")
    items = parse_tweet(quote, me_id=None)
    assert of(items, Tweet)[0].tweetType == "quote"
    assert edges(items, "reference") == []


def test_tweet_type_precedence():
    quoted = status(id_str="300", user=None)
    quote_reply = status(id_str="301", quoted_status=quoted, in_reply_to_status_id_str="299")
    assert by_id(parse_tweet(quote_reply, me_id=None), Tweet)["301"].tweetType == "quote"
    reply = status(id_str="302", in_reply_to_status_id_str="299")
    assert by_id(parse_tweet(reply, me_id=None), Tweet)["302"].inReplyToId == "299"
    assert by_id(parse_tweet(reply, me_id=None), Tweet)["302"].tweetType == "reply"


def test_media_choices():
    media = {
        "id_str": "50",
        "type": "photo",
        "url": "https://t.co/m",
        "media_url_https": "https://pbs/x.jpg",
        "original_info": {"width": 4000, "height": 3000},
        "sizes": {"large": {"w": 2048, "h": 1536}},
    }
    video = {
        "id_str": "51",
        "type": "video",
        "url": "https://t.co/m",
        "media_url_https": "https://pbs/t.jpg",
        "video_info": {
            "duration_millis": 1000,
            "variants": [
                {"content_type": "video/mp4", "bitrate": 100, "url": "low.mp4"},
                {"content_type": "application/x-mpegURL", "url": "x.m3u8"},
                {"content_type": "video/mp4", "bitrate": 900, "url": "high.mp4"},
                {"content_type": "video/mp4", "url": "nobitrate.mp4"},
            ],
        },
    }
    link = {"url": "https://t.co/m", "expanded_url": "https://twitter.com/x/status/100/photo/1"}
    obj = status(
        entities={"urls": [link], "media": [media]},
        extended_entities={"media": [media, video]},
    )
    items = parse_tweet(obj, me_id=None)
    assert [(p.width, p.height) for p in of(items, Photo)] == [(4000, 3000)]  # original_info wins
    assert [(v.url, v.durationMs, v.isGif, v.thumbnailUrl) for v in of(items, Video)] == [
        ("high.mp4", 1000, False, "https://pbs/t.jpg")
    ]
    assert of(items, Website) == []  # the media's t.co url is not a link


def test_same_objects_twice_in_a_page_are_merged():
    eight = {"id_str": "8", "screen_name": "eight", "name": "Eight"}
    a = status(id_str="400", entities={"user_mentions": [eight]})
    b = status(id_str="401", user={**eight, "followers_count": 3})
    page = parse_timeline([a, b, copy.deepcopy(a)], me_id=None)
    accounts = by_id(page.items, Account)
    assert accounts["8"].followersCount == 3
    assert len(of(page.items, Account)) == 2
    assert len(of(page.items, Tweet)) == 2
    assert len(edges(page.items, "mention")) == 1
    assert page.tweet_ids == ["400", "401", "400"]


def test_extended_tweet_of_streaming_compat_payloads():
    obj = status(
        full_text=None,
        text="short…",
        truncated=True,
        extended_tweet={
            "full_text": "the long text",
            "entities": {"urls": [{"url": "u", "expanded_url": "https://long"}]},
        },
    )
    items = parse_tweet(obj, me_id=None)
    assert of(items, Tweet)[0].message == "the long text"
    assert [w.url for w in of(items, Website)] == ["https://long"]


def test_wrong_payload_shapes():
    for call, bad in (
        (parse_timeline, {"errors": []}),
        (parse_users_page, []),
        (parse_users_page, {"users": None}),
        (parse_ids_page, {"ids": "1,2"}),
        (parse_lookup, {}),
        (parse_rate_limit_status, []),
    ):
        with pytest.raises(MalformedPayload):
            call(bad)


def test_users_page_skips_odd_users():
    data = payload("get_followers_1")
    data["users"][3] = {"id": 1, "screen_name": "numeric"}
    data["users"][4] = None
    del data["next_cursor_str"]
    page = parse_users_page(data)
    assert len(page.users) == 133
    assert len(page.skipped) == 2
    assert page.next_cursor == "0"  # from the integer next_cursor
    data = {"users": [], "next_cursor": 1516850034842747602}
    assert parse_users_page(data).next_cursor == "1516850034842747602"
    assert parse_users_page({"users": []}).next_cursor == "0"  # no cursor: end, never a loop


def test_ids_page_skips_odd_ids():
    page = parse_ids_page({"ids": [1, "2", None, 3.5, True, "x"], "next_cursor_str": "0"})
    assert page.ids == ["1", "2"]
    assert len(page.skipped) == 4


def test_lookup_skipped_reasons():
    skipped: list[str] = []
    accounts = parse_lookup(payload("users_lookup") + [{"id": 3}], skipped=skipped)
    assert [a.handle for a in accounts] == ["kesuke"]
    assert len(skipped) == 1


# ------------------------------------------------------------------------------------------
# Common helpers


@pytest.mark.parametrize(
    "value, expected",
    [
        ("Sun Jan 28 06:31:55 +0000 2007", "2007-01-28T06:31:55Z"),
        ("Sun Jan 28 06:31:55 +0200 2007", "2007-01-28T04:31:55Z"),
        ("2016-07-16T04:17:02.000Z", "2016-07-16T04:17:02Z"),
        ("Sun Foo 28 06:31:55 +0000 2007", None),
        ("Sun Jan 28 06:3x:55 +0000 2007", None),
        ("Sun Jan 28 06:31:55 +0000 2007 ", "2007-01-28T06:31:55Z"),  # not the fast path
        ("Sat Jan 27 23:31:55 -0700 2007", "2007-01-28T06:31:55Z"),
        ("Mon Jan 01 00:00:00 +0100 0001", None),  # before year 1 in UTC
        ("Sun Jan 28 06:31:55 0000 2007", None),
        ("", None),
        (None, None),
        (1234, None),
    ],
)
def test_to_iso_utc(value, expected):
    assert to_iso_utc(value) == expected


@pytest.mark.parametrize(
    "value, expected",
    [
        ('<a href="http://twitter.com" rel="nofollow">Twitter Web App</a>', "Twitter Web App"),
        ('<a href="https://x" rel="nofollow">A &amp; B</a>', "A & B"),
        ("web", "web"),
        ("", None),
        (None, None),
    ],
)
def test_source_name(value, expected):
    assert source_name(value) == expected
