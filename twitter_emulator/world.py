"""The synthetic Twitter world: accounts, the follow graph and timelines, all derived lazily.

Accounts are addressed by a *slot* (a small integer): 0 is the main account, 1.. are the
accounts of its follow graph (followers first, then followings; the oldest followers are also
the newest followings), and a fixed pool of "outsiders" authors the tweets that the graph
retweets, quotes, replies to and mentions. Every property of an account or a tweet is a pure
function of (seed, slot, index); the only state is what mutations changed (counts of extra
tweets, added and removed follows), so a world of 100,000 followers and 500 x 3,200 tweets costs
almost no memory.

Ids are snowflakes whose low 22 bits hold the author's slot (bit 21 marks media ids): an id
decodes back to its author and time, which makes ``since_id``/``max_id`` a binary search.
"""

from __future__ import annotations

import logging
import random
import re
from dataclasses import asdict, dataclass
from functools import lru_cache

from twitter_emulator import synth
from twitter_emulator.graph import ContactList, Progression
from twitter_emulator.synth import (
    GRAPH0,
    ME,
    MEDIA_BIT,
    OUT0,
    S_ACCOUNT,
    S_COUNTS,
    S_GRAPH,
    S_KIND,
    S_MUTATE,
    S_NAME,
    S_TIME,
    SLOT_MASK,
    TWEPOCH_MS,
    h64,
    unit,
)
from twitter_emulator.tweets import TweetModel, make_tweet

logger = logging.getLogger(__name__)

#: The synthetic "present" (2022-10-01T00:00:00Z). Fixed, so that a world is the same whenever
#: it is started; mutations add tweets after it.
NOW_MS = 1664582400000
EARLIEST_TWEET_MS = 1325376000000  # 2012-01-01
EARLIEST_ACCOUNT_MS = 1167609600000  # 2007-01-01
DAY_MS = 86_400_000
#: Twitter only serves the most recent 3,200 tweets of a timeline.
TIMELINE_CAP = 3200

MAX_GRAPH = OUT0 - GRAPH0
OUTSIDER_TWEETS = 2000
_LEGACY_LIMIT = 1 << 41  # user ids below this are pre-snowflake ("legacy") ids

_GRAPH_NAME = re.compile(r"^([a-z]+)([1-9][0-9]*|0)$")
_OUT_NAME = re.compile(r"^([a-z]+)_([1-9][0-9]*|0)$")

#: Twitter's picture for an account that never set one: one URL, shared by all of them.
DEFAULT_AVATAR = "https://abs.twimg.com/sticky/default_profile_images/default_profile_normal.png"
#: One account in this many has it.
DEFAULT_AVATAR_EVERY = 10


@dataclass(frozen=True)
class WorldOptions:
    """The size and mix of a synthetic world (the CLI's world options)."""

    handle: str = "alice"
    followers: int = 120
    followings: int = 40
    tweets: int = 250
    following_tweets: int = 20
    retweet_share: float = 0.15
    quote_share: float = 0.08
    reply_share: float = 0.12
    photo_share: float = 0.15
    video_share: float = 0.04
    gif_share: float = 0.03
    link_share: float = 0.2
    mention_share: float = 0.25
    protected_followings: int = 1
    suspended_followings: int = 1
    seed: int = 1
    outsiders: int = 1000

    def validate(self) -> None:
        if not re.fullmatch(r"[A-Za-z0-9_]{1,15}", self.handle):
            raise ValueError(f"invalid handle {self.handle!r}")
        for name in ("followers", "followings", "tweets", "following_tweets", "outsiders",
                     "protected_followings", "suspended_followings"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative")
        if self.followers + self.followings > MAX_GRAPH // 2:
            raise ValueError("world too large: followers + followings must stay below 800,000")
        if self.outsiders < 1 or self.outsiders > (1 << 21) - OUT0:
            raise ValueError("outsiders must be between 1 and 497,152")
        if self.protected_followings + self.suspended_followings > self.followings:
            raise ValueError("more protected + suspended followings than followings")
        shares = ("retweet_share", "quote_share", "reply_share")
        media = ("photo_share", "video_share", "gif_share")
        for group in (shares, media):
            if any(getattr(self, n) < 0 for n in group) or sum(getattr(self, n) for n in group) > 1:
                raise ValueError(f"{' + '.join(group)} must be fractions summing to at most 1")
        for n in ("link_share", "mention_share"):
            if not 0 <= getattr(self, n) <= 1:
                raise ValueError(f"{n} must be between 0 and 1")


@dataclass(slots=True)
class Account:
    """One account as the world knows it (static profile plus live counts)."""

    slot: int
    id: int
    screen_name: str
    name: str
    description: str
    location: str
    url: str | None  # expanded profile link, or None
    url_tco: str | None
    created_ms: int
    verified: bool
    protected: bool
    suspended: bool
    followers_count: int
    friends_count: int
    listed_count: int
    favourites_count: int
    statuses_count: int
    avatar: str  # profile_image_url_https
    banner: str | None
    color: str
    lang: str | None
    followed_by_me: bool  # the authenticating (main) user follows this account


class World:
    """The synthetic world. Not thread-safe: the aiohttp loop is its only user."""

    def __init__(self, opts: WorldOptions) -> None:
        opts.validate()
        self.opts = opts
        self.seed = opts.seed
        F, G = opts.followers, opts.followings
        self.overlap = min(F, G) // 4
        # Initial graph accounts: followers are graph 0..F-1 (graph 0 the most recent), the
        # followings graph F-overlap .. F-overlap+G-1 (the first `overlap` of them also follow).
        self.graph_initial = F + G - self.overlap
        self.graph_count = self.graph_initial  # grows with mutations
        self.pool = self.graph_initial + opts.outsiders  # accounts picked as authors/mentions
        fo_base = GRAPH0
        fr_base = GRAPH0 + F - self.overlap
        self.followers = ContactList(
            F, lambda seq: fo_base + (F - seq), lambda slot: _inv(slot - fo_base, F)
        )
        self.followings = ContactList(
            G, lambda seq: fr_base + (G - seq), lambda slot: _inv(slot - fr_base, G)
        )
        self.special: dict[int, str] = {}
        self._pick_special()
        self.extra_main = 0
        self.extra_other = 0
        self.mutations = 0
        self.account_static = lru_cache(maxsize=65536)(self._account_static)
        self._timing = lru_cache(maxsize=65536)(self._timing_uncached)
        self._screen_name = lru_cache(maxsize=65536)(self._screen_name_uncached)
        # Tweets never change once they exist (mutations only add newer ones): a bounded cache
        # saves rebuilding the originals that many retweets share.
        self._tweet_cache = lru_cache(maxsize=32768)(self._make_tweet)

    def _make_tweet(self, slot: int, n: int) -> TweetModel:
        return make_tweet(self, slot, n)

    def tweet(self, slot: int, n: int) -> TweetModel:
        """Tweet ``n`` (0 = oldest) of an account."""
        return self._tweet_cache(slot, n)

    # -- special accounts ---------------------------------------------------------------------

    def _pick_special(self) -> None:
        opts = self.opts
        need = opts.protected_followings + opts.suspended_followings
        if not need:
            return
        rng = random.Random(h64(self.seed, S_GRAPH, 1))
        # Prefer followings that do not also follow the main account, so a suspended account
        # never sits in the followers list (where the list endpoint would silently drop it).
        lo = self.overlap if opts.followings - self.overlap >= need else 0
        positions = rng.sample(range(lo, opts.followings), need)
        for i, pos in enumerate(positions):
            slot = self.followings.member(opts.followings - pos)
            self.special[slot] = "protected" if i < opts.protected_followings else "suspended"

    def state(self, slot: int) -> str:
        """``active``, ``protected`` or ``suspended``."""
        return self.special.get(slot, "active")

    # -- slots, ids and names -----------------------------------------------------------------

    def exists(self, slot: int) -> bool:
        if slot == ME:
            return True
        if GRAPH0 <= slot < GRAPH0 + self.graph_count:
            return True
        return OUT0 <= slot < OUT0 + self.opts.outsiders

    def pool_slot(self, index: int) -> int:
        """Slot of a pool index (graph accounts of the initial world, then outsiders, then me)."""
        if index < self.graph_initial:
            return GRAPH0 + index
        if index < self.pool:
            return OUT0 + index - self.graph_initial
        return ME

    def pool_index(self, slot: int) -> int | None:
        if GRAPH0 <= slot < GRAPH0 + self.graph_initial:
            return slot - GRAPH0
        if OUT0 <= slot < OUT0 + self.opts.outsiders:
            return self.graph_initial + slot - OUT0
        return None

    def _word(self, slot: int) -> str:
        h = h64(self.seed, S_NAME, slot)
        n = 2 + (h & 1)
        return "".join(synth.SYLLABLES[(h >> (8 + 5 * i)) % len(synth.SYLLABLES)] for i in range(n))

    def screen_name(self, slot: int) -> str:
        return self._screen_name(slot)

    def _screen_name_uncached(self, slot: int) -> str:
        if slot == ME:
            return self.opts.handle
        word = self._word(slot)
        if (h64(self.seed, S_NAME, slot, 2) & 3) == 0:
            word = word.capitalize()  # screen names keep their case; lookups ignore it
        if slot >= OUT0:
            return f"{word}_{slot - OUT0}"
        return f"{word}{slot - GRAPH0}"

    def slot_by_name(self, name: str) -> int | None:
        low = name.lower().lstrip("@")
        if low == self.opts.handle.lower():
            return ME
        m = _GRAPH_NAME.match(low)
        if m:
            slot = GRAPH0 + int(m.group(2))
        else:
            m = _OUT_NAME.match(low)
            if not m:
                return None
            slot = OUT0 + int(m.group(2))
        if slot == ME or not self.exists(slot) or self._word(slot) != m.group(1):
            return None
        return slot

    def user_id(self, slot: int) -> int:
        created = self.account_static(slot)[0]
        if created < TWEPOCH_MS + 30 * DAY_MS:
            return 1000 + slot * 64 + self.seed % 64  # pre-2010 accounts have small ids
        return synth.snowflake(created, slot)

    def slot_by_id(self, uid: int) -> int | None:
        if uid < _LEGACY_LIMIT:
            q, r = divmod(uid - 1000 - self.seed % 64, 64)
            slot = q if r == 0 and uid >= 1000 else -1
        else:
            slot = uid & SLOT_MASK
        if slot < 0 or not self.exists(slot) or self.user_id(slot) != uid:
            return None
        return slot

    # -- timelines ----------------------------------------------------------------------------

    def t0(self, slot: int) -> int:
        """Tweets an account had when the world was created (all older than NOW_MS).

        Outsiders have long histories reaching back to 2012, so that even the main account's
        oldest tweets find an earlier tweet to retweet, quote or reply to."""
        if slot == ME:
            return self.opts.tweets
        return OUTSIDER_TWEETS if slot >= OUT0 else self.opts.following_tweets

    def timeline_len(self, slot: int) -> int:
        return self.t0(slot) + (self.extra_main if slot == ME else self.extra_other)

    def _timing_uncached(self, slot: int) -> tuple[int, int, int]:
        t0 = self.t0(slot)
        g = h64(self.seed, S_TIME, slot)
        gap = 20 * 60_000 + g % (3 * DAY_MS)
        if slot >= OUT0:
            gap = (NOW_MS - EARLIEST_TWEET_MS - 7 * DAY_MS) // t0  # spread over the whole decade
        elif t0 > 1:
            # Spread long timelines so they start after 2012; >= 2 s apart keeps ids distinct.
            gap = max(2000, min(gap, (NOW_MS - EARLIEST_TWEET_MS - 7 * DAY_MS) // t0))
        phase = (g >> 32) % (6 * 3_600_000)
        return gap, phase, t0

    def tweet_hash(self, slot: int, n: int) -> int:
        """The base hash of tweet (slot, n); every decision about the tweet derives from it."""
        return h64(self.seed, slot, n)

    def tweet_ms(self, slot: int, n: int) -> int:
        """Creation time of tweet ``n`` (0 = oldest) of an account; strictly increasing in n."""
        gap, phase, t0 = self._timing(slot)
        if n < t0:
            jitter = synth.sub(h64(self.seed, slot, n), S_TIME) % (gap // 2)
            return NOW_MS - phase - gap // 2 - (t0 - 1 - n) * gap + jitter
        # Tweets added by mutations: one a minute after the world's present.
        return NOW_MS + (n - t0 + 1) * 60_000 + phase % 30_000

    def tweet_id(self, slot: int, n: int) -> int:
        return synth.snowflake(self.tweet_ms(slot, n), slot)

    def decode_tweet_id(self, tid: int) -> tuple[int, int] | None:
        """(slot, n) of an existing tweet id, or None."""
        slot = tid & SLOT_MASK
        if slot & MEDIA_BIT or not self.exists(slot):
            return None
        n = self.index_at_or_below(slot, tid, 0, self.timeline_len(slot) - 1)
        if n < 0 or self.tweet_id(slot, n) != tid:
            return None
        return slot, n

    def index_at_or_below(self, slot: int, tid: int, lo: int, hi: int) -> int:
        """The largest n in [lo, hi] with id(n) <= tid, or lo - 1 (binary search)."""
        ans = lo - 1
        while lo <= hi:
            mid = (lo + hi) // 2
            if self.tweet_id(slot, mid) <= tid:
                ans, lo = mid, mid + 1
            else:
                hi = mid - 1
        return ans

    def last_before_ms(self, slot: int, ms: int) -> int:
        """The newest tweet of the *initial* timeline created strictly before ``ms``, or -1.

        Only initial tweets are candidates, so that what an old tweet retweets, quotes or replies
        to never changes when mutations add tweets. O(1): tweet n lies in
        [start + n*gap, start + n*gap + gap/2), so the answer is the estimate or the one before."""
        gap, phase, t0 = self._timing(slot)
        if t0 == 0:
            return -1
        start = NOW_MS - phase - gap // 2 - (t0 - 1) * gap
        if ms <= start:
            return -1
        n = min(t0 - 1, (ms - start) // gap)
        return n if self.tweet_ms(slot, n) < ms else n - 1

    def timeline_indices(
        self, slot: int, count: int, since_id: int | None, max_id: int | None
    ) -> list[int]:
        """Tweet indices of one user_timeline page, newest first: the 3,200 cap, ``since_id``
        exclusive, ``max_id`` inclusive, at most ``count``."""
        total = self.timeline_len(slot)
        lo, hi = max(0, total - TIMELINE_CAP), total - 1
        if max_id is not None:
            hi = self.index_at_or_below(slot, max_id, lo, hi)
        if since_id is not None:
            lo = self.index_at_or_below(slot, since_id, lo, hi) + 1
        if hi < lo:
            return []
        return list(range(hi, max(lo, hi - count + 1) - 1, -1))

    def is_retweet_roll(self, slot: int, n: int) -> bool:
        """Whether tweet (slot, n) was rolled as a retweet (it may still degrade to a plain
        tweet when no original fits; a False here is final)."""
        return synth.subunit(self.tweet_hash(slot, n), S_KIND) < self.opts.retweet_share

    # -- accounts -----------------------------------------------------------------------------

    def _account_static(self, slot: int) -> tuple:
        """Static profile facts (cached): created_ms first, as user ids depend on it."""
        seed = self.seed
        h = h64(seed, S_ACCOUNT, slot)
        first = self.tweet_ms(slot, 0) if self.t0(slot) else NOW_MS
        span = max(first - DAY_MS - EARLIEST_ACCOUNT_MS, DAY_MS)
        created = EARLIEST_ACCOUNT_MS + int(unit(seed, S_ACCOUNT, slot, 1) * span)
        created -= created % 1000
        first_name = synth.FIRST[h % len(synth.FIRST)]
        last = synth.LAST[(h >> 8) % len(synth.LAST)]
        name = f"{first_name} {last}{synth.NAME_SUFFIX[(h >> 16) % len(synth.NAME_SUFFIX)]}"
        bio = ". ".join(
            synth.BIO_PARTS[(h >> (20 + 5 * i)) % len(synth.BIO_PARTS)] for i in range(1 + (h >> 40) % 3)
        )
        location = synth.LOCATIONS[(h >> 44) % len(synth.LOCATIONS)]
        url = None
        if (h >> 50) % 3 == 0:
            site = synth.SITES[(h >> 52) % len(synth.SITES)]
            url = f"https://{site}/~{self._word(slot)}"
        verified = (h >> 56) % 50 == 0 or slot == ME
        return created, name, bio, location, url, verified, h

    def account(self, slot: int) -> Account:
        created, name, bio, location, url, verified, h = self.account_static(slot)
        seed = self.seed
        state = self.state(slot)
        if slot == ME:
            suspended_left = sum(
                1 for s, st in self.special.items()
                if st == "suspended" and self.followings.seq_of(s) is not None
            )
            followers_count = len(self.followers)
            friends_count = len(self.followings) - suspended_left
        else:
            followers_count = self.derived_count(slot, "followers") + self.me_follows(slot)
            friends_count = self.derived_count(slot, "friends") + self.follows_me(slot)
        hc = h64(seed, S_COUNTS, slot)
        uid = self.user_id(slot)
        img = synth.code62(h64(seed, S_ACCOUNT, slot, 7), 8)
        return Account(
            slot=slot,
            id=uid,
            screen_name=self.screen_name(slot),
            name=name,
            description=bio,
            location=location,
            url=url,
            url_tco=f"https://t.co/{synth.code62(h, 10)}" if url else None,
            created_ms=created,
            verified=verified,
            protected=state == "protected",
            suspended=state == "suspended",
            followers_count=followers_count,
            friends_count=friends_count,
            listed_count=hc % 97,
            favourites_count=(hc >> 8) % 20000,
            statuses_count=self.timeline_len(slot),
            avatar=DEFAULT_AVATAR if (hc >> 56) % DEFAULT_AVATAR_EVERY == 0
            else f"https://pbs.twimg.com/profile_images/{uid % 10**12 + 10**17}/{img}_normal.jpg",
            banner=f"https://pbs.twimg.com/profile_banners/{uid}/{created // 1000}" if (h >> 60) & 1 else None,
            color=synth.COLORS[(hc >> 30) % len(synth.COLORS)],
            lang=None,
            followed_by_me=bool(self.me_follows(slot)),
        )

    # -- follow graph -------------------------------------------------------------------------

    def me_follows(self, slot: int) -> int:
        return int(slot != ME and self.followings.seq_of(slot) is not None)

    def follows_me(self, slot: int) -> int:
        return int(slot != ME and self.followers.seq_of(slot) is not None)

    def derived_count(self, slot: int, which: str) -> int:
        """Size of the part of a non-main account's list that does not involve the main account."""
        u = unit(self.seed, S_GRAPH, slot, 0 if which == "followers" else 1)
        n = int(10 ** (u * 3.3)) - 1  # 0 .. ~2000, heavy-tailed like real accounts
        return max(0, min(n, self.pool - 2))

    def contacts(self, slot: int, which: str) -> ContactList:
        """``followers`` or ``friends`` of an account, newest first."""
        if slot == ME:
            return self.followers if which == "followers" else self.followings
        n = self.derived_count(slot, which)
        prog = Progression(
            self.pool, h64(self.seed, S_GRAPH, slot, 2 if which == "followers" else 3), self.pool_index(slot)
        )
        with_me = self.me_follows(slot) if which == "followers" else self.follows_me(slot)
        pool_slot = self.pool_slot
        if with_me:
            return ContactList(n + 1, lambda seq: ME if seq == n + 1 else pool_slot(prog(n - seq)))
        return ContactList(n, lambda seq: pool_slot(prog(n - seq)))

    def usable_author(self, slot: int) -> bool:
        """Accounts that may be retweeted, quoted, replied to or mentioned (public, existing)."""
        return slot not in self.special

    # -- mutations ----------------------------------------------------------------------------

    def mutate(
        self,
        new_tweets: int = 0,
        new_followers: int = 0,
        unfollows: int = 0,
        new_following_tweets: int = 0,
        new_followings: int = 0,
        unfollowings: int = 0,
    ) -> dict[str, int]:
        """Change the world deterministically (same calls, same world)."""
        if min(new_tweets, new_followers, unfollows, new_following_tweets, new_followings, unfollowings) < 0:
            raise ValueError("mutation counts must not be negative")
        if self.graph_count + new_followers + new_followings > MAX_GRAPH:
            raise ValueError("too many accounts")
        self.mutations += 1
        rng = random.Random(h64(self.seed, S_MUTATE, self.mutations))
        self.extra_main += new_tweets
        self.extra_other += new_following_tweets
        removed_followers = _remove_random(self.followers, unfollows, rng)
        removed_followings = _remove_random(self.followings, unfollowings, rng)
        for _ in range(new_followers):
            self.followers.add(GRAPH0 + self.graph_count)
            self.graph_count += 1
        for _ in range(new_followings):
            self.followings.add(GRAPH0 + self.graph_count)
            self.graph_count += 1
        logger.info(
            "mutation %d: +%d own tweets, +%d tweets per other account, +%d/-%d followers, +%d/-%d followings",
            self.mutations, new_tweets, new_following_tweets, new_followers, removed_followers,
            new_followings, removed_followings,
        )
        return {"removed_followers": removed_followers, "removed_followings": removed_followings}

    def summary(self) -> dict:
        me = self.account(ME)
        return {
            "dataset": "synthetic",
            "handle": self.opts.handle,
            "user_id": str(me.id),
            "counts": {
                "followers": me.followers_count,
                "followings": me.friends_count,
                "followings_listed_in_ids": len(self.followings),
                "tweets": me.statuses_count,
                "reachable_tweets": min(me.statuses_count, TIMELINE_CAP),
                "tweets_per_other_account": self.opts.following_tweets + self.extra_other,
                "accounts": 1 + self.graph_count + self.opts.outsiders,
            },
            "protected": sorted(self.screen_name(s) for s, st in self.special.items() if st == "protected"),
            "suspended": sorted(self.screen_name(s) for s, st in self.special.items() if st == "suspended"),
            "missing": ["nobody_here", "gone_0"],
            "mutations": self.mutations,
            "options": asdict(self.opts),
        }


def _inv(offset: int, size: int) -> int | None:
    """Sequence number of a base entry at ``offset`` (0 = most recent) of a list of ``size``."""
    return size - offset if 0 <= offset < size else None


def _remove_random(contacts: ContactList, n: int, rng: random.Random) -> int:
    """Remove ``n`` live entries chosen by ``rng`` (fewer if the list is shorter)."""
    n = min(n, len(contacts))
    removed = 0
    while removed < n:
        seq = rng.randint(1, contacts.max_seq)
        if seq not in contacts.removed:
            contacts.remove(seq)
            removed += 1
    return removed
