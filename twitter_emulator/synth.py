"""Deterministic pseudo-randomness and vocabulary for the synthetic world.

Everything in the world is a pure function of (seed, indices), so nothing has to be stored:
an account or a tweet is recomputed from its index whenever it is needed. Python's ``hash()``
is salted per process, so a small integer mixer (splitmix64) is used instead: it is fast in pure
Python and gives the same numbers in every process and on every machine.
"""

from __future__ import annotations

import base64
import logging
from datetime import UTC, datetime

logger = logging.getLogger(__name__)

M64 = (1 << 64) - 1
#: Twitter's snowflake epoch (ms), used for tweet, media and user ids.
TWEPOCH_MS = 1288834974657
#: The low 22 bits of a synthetic snowflake hold the author's slot; bit 21 marks media ids.
SLOT_MASK = (1 << 22) - 1
MEDIA_BIT = 1 << 21
#: Account slots: 0 is the main account, the follow graph starts at GRAPH0, the outsiders (who
#: author what the graph retweets and mentions) at OUT0. Slots stay below MEDIA_BIT.
ME = 0
GRAPH0 = 1
OUT0 = 1_600_000

# Salts: one per decision, so that two decisions about the same object are independent.
S_ACCOUNT = 0x1001
S_NAME = 0x1002
S_COUNTS = 0x1003
S_TIME = 0x2001
S_KIND = 0x2002
S_TEXT = 0x2003
S_MEDIA = 0x2004
S_LINK = 0x2005
S_MENTION = 0x2006
S_TARGET = 0x2007
S_META = 0x2008
S_GRAPH = 0x3001
S_MUTATE = 0x4001


def mix(x: int) -> int:
    """splitmix64 finaliser: a bijective, well-spread 64-bit mix."""
    x = (x + 0x9E3779B97F4A7C15) & M64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & M64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & M64
    return x ^ (x >> 31)


def h64(*parts: int) -> int:
    """A 64-bit hash of a tuple of integers (order-sensitive).

    A multiply-xorshift step per part and one full mix at the end: about half the cost of
    mixing every part, which matters because a tweet takes a few dozen of these."""
    x = 0x243F6A8885A308D3
    for p in parts:
        x = ((x ^ (p & M64)) * 0x9E3779B97F4A7C15) & M64
        x ^= x >> 32
    return mix(x)


def sub(base: int, salt: int) -> int:
    """A derived hash: one decision about an object whose ``base`` hash is already known (a
    single mix instead of hashing the whole tuple again)."""
    return mix(base ^ salt)


def subunit(base: int, salt: int) -> float:
    return (mix(base ^ salt) >> 11) * (1.0 / 9007199254740992.0)


def unit(*parts: int) -> float:
    """A uniform float in [0, 1) derived from the parts."""
    return (h64(*parts) >> 11) * (1.0 / 9007199254740992.0)


def pick(seq: tuple | list, *parts: int):  # noqa: ANN201 (generic helper)
    return seq[h64(*parts) % len(seq)]


_B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def code62(n: int, length: int) -> str:
    """A fixed-length base62 string (t.co codes, media file names)."""
    out = []
    for _ in range(length):
        n, r = divmod(n, 62)
        out.append(_B62[r])
    return "".join(out)


def b64code(n: int, length: int) -> str:
    """A URL-safe base64-looking code, like the names of Twitter media files."""
    raw = n.to_bytes(8, "big") * 3
    return base64.urlsafe_b64encode(raw).decode()[:length]


_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def twitter_date(ms: int) -> str:
    """``Sat Jul 30 03:20:23 +0000 2016``: the v1.1 ``created_at`` format (locale-independent)."""
    d = datetime.fromtimestamp(ms / 1000, tz=UTC)
    return f"{_DAYS[d.weekday()]} {_MONTHS[d.month - 1]} {d.day:02d} {d:%H:%M:%S} +0000 {d.year}"


def iso_date(ms: int) -> str:
    """``2016-07-30T03:20:23Z``: the item model's date format (whole seconds, UTC)."""
    return datetime.fromtimestamp(ms // 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def snowflake(ms: int, low22: int) -> int:
    return ((ms - TWEPOCH_MS) << 22) | low22


# ---------------------------------------------------------------------------------------------
# Vocabulary. Kept free of characters whose escaping is ambiguous (no '&' in names, bios or app
# names), so the ground truth does not depend on a parser's choice there; tweet texts carry the
# HTML entities on purpose (&amp; &lt; &gt;), as Twitter's do.

FIRST = (
    "Ada", "Alan", "Grace", "Linus", "Margaret", "Dennis", "Barbara", "Ken", "Frances", "Tim",
    "Radia", "Vint", "Hedy", "Guido", "Karen", "Donald", "Sophie", "John", "Katherine", "Edsger",
    "Joan", "Niklaus", "Anita", "Bjarne", "Mary", "James", "Shafi", "Leslie", "Lynn", "Brian",
    "Adele", "Rob", "Fran", "Yukihiro", "Susan", "Whitfield", "Jean", "Ward", "Carol", "Larry",
    "Amélie", "José", "Zoë", "Søren", "Nuño", "Anaïs", "Björn", "Chloé", "Łukasz", "Renée",
)
LAST = (
    "Lovelace", "Turing", "Hopper", "Torvalds", "Hamilton", "Ritchie", "Liskov", "Thompson",
    "Allen", "Lee", "Perlman", "Cerf", "Lamarr", "Rossum", "Jones", "Knuth", "Wilson", "McCarthy",
    "Johnson", "Dijkstra", "Clarke", "Wirth", "Borg", "Stroustrup", "Keller", "Gosling", "Goldwasser",
    "Lamport", "Conway", "Kernighan", "Goldberg", "Pike", "Bilas", "Matsumoto", "Kare", "Diffie",
    "Sammet", "Cunningham", "Shaw", "Page", "Dubois", "García", "Nørgaard", "Müller", "Kowalski",
)
NAME_SUFFIX = ("", "", "", "", "", " 🌱", " ✨", " (she/her)", " (he/him)", " 🚀", " | 日本語", " PhD")

SYLLABLES = (
    "ka", "lo", "mi", "ra", "ze", "tu", "no", "vi", "sa", "pe", "do", "ri", "fu", "ba", "xo",
    "li", "ne", "mo", "ta", "gu", "ha", "je", "ko", "wa", "yu", "qi", "co", "de", "ju", "ve",
)

BIO_PARTS = (
    "Builder of small things", "Coffee first", "Opinions are my own", "Distributed systems nerd",
    "Runner", "Amateur astronomer", "Writes about data", "Cat person", "Open source maintainer",
    "Cyclist", "Bookworm", "Plant parent", "Learning Rust", "Photographer", "Teacher",
    "Making music", "Loves maps", "Climber", "Ex-physicist", "Dad jokes", "Tea > coffee",
    "Recovering PHP developer", "Speaks 3 languages", "Sketchnotes", "She/her", "Views not mine",
    "Building a Pod", "Memri fan", "Privacy matters", "Scrapy user",
)
LOCATIONS = (
    "Amsterdam, NL", "Berlin", "San Francisco, CA", "Tokyo, Japan", "São Paulo", "Nairobi",
    "London, UK", "Montréal, QC", "Bengaluru", "Reykjavík", "Sydney", "Lagos, Nigeria",
    "Toronto", "Paris", "Mexico City", "Seoul", "Cape Town", "Oslo", "Zürich", "the internet",
)
SITES = (
    "example.com", "blog.example.org", "docs.scrapy.org", "memri.io", "github.com",
    "en.wikipedia.org", "www.nytimes.com", "arxiv.org", "news.ycombinator.com", "www.bbc.co.uk",
)
WORDS = (
    "the", "a", "of", "to", "and", "in", "is", "it", "you", "that", "was", "for", "on", "are",
    "with", "as", "I", "this", "be", "at", "have", "from", "or", "one", "had", "by", "but",
    "not", "what", "all", "were", "we", "when", "your", "can", "said", "there", "use", "an",
    "each", "which", "do", "how", "their", "if", "will", "up", "other", "about", "out", "many",
    "then", "them", "these", "so", "some", "would", "make", "like", "into", "time", "has",
    "look", "more", "write", "go", "see", "number", "no", "way", "could", "people", "my",
    "than", "first", "water", "been", "call", "who", "now", "find", "long", "down", "day",
    "did", "get", "come", "made", "may", "part", "data", "crawler", "pipeline", "tweet",
    "timeline", "cursor", "quota", "spider", "request", "python", "async", "reactor", "pod",
    "schema", "import", "deploy", "release", "bug", "fix", "coffee", "weekend", "train",
    "music", "rain", "garden", "paper", "review", "meetup", "talk", "slides", "benchmark",
)
#: Tokens that force HTML escaping in v1.1 text ("&" -> "&amp;", "<" -> "&lt;", ">" -> "&gt;").
SPICY = ("R&D", "Q&A", "<3", "a -> b", "x < y", "AT&T", "5 > 3", "&", "rock & roll")
EMOJI = ("🎉", "🚀", "☕", "😂", "🙏", "❤️", "🔥", "👀", "✅", "🐍")
HASHTAGS = ("python", "scrapy", "opendata", "privacy", "memri", "100DaysOfCode", "rustlang")

SOURCES = (
    ("Twitter for iPhone", "http://twitter.com/download/iphone"),
    ("Twitter for Android", "http://twitter.com/download/android"),
    ("Twitter Web App", "https://mobile.twitter.com"),
    ("Twitter Web Client", "http://twitter.com"),
    ("TweetDeck", "https://about.twitter.com/products/tweetdeck"),
    ("Buffer", "https://buffer.com"),
    ("IFTTT", "https://ifttt.com"),
    ("Tweetbot for Mac", "https://tapbots.com/software/tweetbot/mac"),
)
LANGS = ("en", "en", "en", "en", "en", "en", "es", "fr", "de", "ja", "nl", "und")
COLORS = ("1DA1F2", "C0DEED", "F5F8FA", "DDEEF6", "333333", "0084B4", "ABB8C3", "FFFFFF", "000000")
