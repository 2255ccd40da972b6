"""World objects -> v1.1 JSON, shaped like the recorded payloads (key order included).

One :class:`Renderer` serves one request: it remembers the user objects it has already built
for that request (a timeline page repeats its author 200 times), and forgets them with the
request, so nothing grows across requests.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from twitter_emulator import synth
from twitter_emulator.synth import h64
from twitter_emulator.tweets import TCO, Media, TweetModel

if TYPE_CHECKING:
    from twitter_emulator.world import Account, World

logger = logging.getLogger(__name__)

COMPAT_LIMIT = 140
#: In compat mode a long tweet keeps 115 characters, then "… " and a 23-character t.co link to
#: the full tweet: 140 in all (as in the recorded ``extended_tweet_in_compat_mode`` payload).
COMPAT_CUT = COMPAT_LIMIT - 25


def escape(text: str) -> str:
    """v1.1 texts are HTML-escaped (only &, < and >)."""
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    return text


def _fit(w: int, h: int, box: int) -> dict[str, Any]:
    scale = min(1.0, box / max(w, h))
    return {"w": round(w * scale), "h": round(h * scale), "resize": "fit"}


class Renderer:
    """Builds v1.1 JSON dicts for one request."""

    def __init__(self, world: World, *, extended: bool = True, entities: bool = True, trim_user: bool = False) -> None:
        self.world = world
        self.extended = extended
        self.entities = entities
        self.trim_user = trim_user
        self._users: dict[int, dict[str, Any]] = {}

    # -- users --------------------------------------------------------------------------------

    def user(self, slot: int, *, status: bool = False) -> dict[str, Any]:
        """A user object; with ``status``, its newest tweet inline (never for protected users,
        whose tweets the caller may not see)."""
        if self.trim_user and not status:
            uid = self.world.user_id(slot)
            return {"id": uid, "id_str": str(uid)}
        if not status:
            cached = self._users.get(slot)
            if cached is None:
                cached = self._users[slot] = self._user(self.world.account(slot), None)
            return cached
        acct = self.world.account(slot)
        st = None
        if not acct.protected and not acct.suspended and self.world.timeline_len(slot):
            st = self.status_of(slot)
        return self._user(acct, st)

    def _user(self, a: Account, status: dict[str, Any] | None) -> dict[str, Any]:
        d: dict[str, Any] = {
            "id": a.id,
            "id_str": str(a.id),
            "name": a.name,
            "screen_name": a.screen_name,
            "location": a.location,
            "profile_location": None,
            "description": a.description,
            "url": a.url_tco,
        }
        if self.entities:
            ent: dict[str, Any] = {}
            if a.url:
                display = a.url.removeprefix("https://").removeprefix("www.")
                ent["url"] = {"urls": [{"url": a.url_tco, "expanded_url": a.url, "display_url": display,
                                        "indices": [0, len(a.url_tco or "")]}]}
            ent["description"] = {"urls": []}
            d["entities"] = ent
        d.update({
            "protected": a.protected,
            "followers_count": a.followers_count,
            "friends_count": a.friends_count,
            "listed_count": a.listed_count,
            "created_at": synth.twitter_date(a.created_ms),
            "favourites_count": a.favourites_count,
            "utc_offset": None,
            "time_zone": None,
            "geo_enabled": False,
            "verified": a.verified,
            "statuses_count": a.statuses_count,
            "lang": a.lang,
        })
        if status is not None:
            d["status"] = status
        avatar_http = "http://" + a.avatar.removeprefix("https://")
        d.update({
            "contributors_enabled": False,
            "is_translator": False,
            "is_translation_enabled": False,
            "profile_background_color": a.color,
            "profile_background_image_url": "http://abs.twimg.com/images/themes/theme1/bg.png",
            "profile_background_image_url_https": "https://abs.twimg.com/images/themes/theme1/bg.png",
            "profile_background_tile": False,
            "profile_image_url": avatar_http,
            "profile_image_url_https": a.avatar,
        })
        if a.banner:
            d["profile_banner_url"] = a.banner
        d.update({
            "profile_link_color": "1DA1F2",
            "profile_sidebar_border_color": "C0DEED",
            "profile_sidebar_fill_color": "DDEEF6",
            "profile_text_color": "333333",
            "profile_use_background_image": True,
            "has_extended_profile": False,
            "default_profile": a.color == "1DA1F2",
            "default_profile_image": "/default_profile_images/" in a.avatar,
            "following": a.followed_by_me,
            "follow_request_sent": False,
            "notifications": False,
            "translator_type": "none",
        })
        return d

    def status_of(self, slot: int) -> dict[str, Any]:
        """The newest tweet as embedded in a user object: no ``user``, and (a real quirk) its
        ``retweeted_status`` has no ``user`` either."""
        w = self.world
        return self.tweet(w.tweet(slot, w.timeline_len(slot) - 1), with_user=False)

    # -- tweets -------------------------------------------------------------------------------

    def tweet(self, t: TweetModel, *, with_user: bool = True, embed: bool = True) -> dict[str, Any]:
        w = self.world
        extended = self.extended
        text = t.text
        truncated = False
        mentions, links, tags, media = t.mentions, t.links, t.hashtags, t.media
        if not extended and t.kind != "retweet" and len(text) > COMPAT_LIMIT:
            truncated = True
            cut = COMPAT_CUT
            web = TCO + synth.code62(h64(t.id, 77), 10)
            text = f"{text[:cut]}… {web}"
            mentions = [m for m in mentions if m.end <= cut]
            tags = [x for x in tags if x.end <= cut]
            links = [x for x in links if x.end <= cut]
            media = []
            web_link = {"url": web, "expanded_url": f"https://twitter.com/i/web/status/{t.id}",
                        "display_url": f"twitter.com/i/web/status/{str(t.id)[:7]}…",
                        "indices": [cut + 2, cut + 25]}
        else:
            web_link = None
        d: dict[str, Any] = {
            "created_at": synth.twitter_date(t.ms),
            "id": t.id,
            "id_str": str(t.id),
        }
        if extended:
            d["full_text"] = escape(text)
            d["truncated"] = False
            d["display_text_range"] = [t.display[0], t.display[1]]
        else:
            d["text"] = escape(text)
            d["truncated"] = truncated
        if self.entities:
            urls = [{"url": x.tco, "expanded_url": x.expanded, "display_url": x.display, "indices": [x.start, x.end]}
                    for x in links]
            if web_link:
                urls.append(web_link)
            ent: dict[str, Any] = {
                "hashtags": [{"text": x.text, "indices": [x.start, x.end]} for x in tags],
                "symbols": [],
                "user_mentions": [self._mention(m.slot, m.start, m.end) for m in mentions],
                "urls": urls,
            }
            if media:
                ent["media"] = [self._media(media[0])]
            d["entities"] = ent
            if media:
                d["extended_entities"] = {"media": [self._media(m) for m in media]}
        src_name, src_href = t.source
        d["source"] = f'<a href="{src_href}" rel="nofollow">{src_name}</a>'
        if t.reply_to:
            rs, rn = t.reply_to
            rid, ruid = w.tweet_id(rs, rn), w.user_id(rs)
            d.update({
                "in_reply_to_status_id": rid, "in_reply_to_status_id_str": str(rid),
                "in_reply_to_user_id": ruid, "in_reply_to_user_id_str": str(ruid),
                "in_reply_to_screen_name": w.screen_name(rs),
            })
        else:
            d.update({
                "in_reply_to_status_id": None, "in_reply_to_status_id_str": None,
                "in_reply_to_user_id": None, "in_reply_to_user_id_str": None,
                "in_reply_to_screen_name": None,
            })
        if with_user:
            d["user"] = self.user(t.slot)
        d.update({"geo": None, "coordinates": None, "place": None, "contributors": None})
        quoted = t.quoted
        if t.retweeted:
            orig = w.tweet(*t.retweeted)
            # Embedded with its user, except inside a user object's status (the recorded quirk).
            d["retweeted_status"] = self.tweet(orig, with_user=with_user, embed=embed)
            quoted = orig.quoted  # a retweet of a quote names the quoted tweet, without embedding it
            embed_quote = False
        else:
            embed_quote = embed
        if quoted:
            qid = w.tweet_id(*quoted)
            d["is_quote_status"] = True
            d["quoted_status_id"] = qid
            d["quoted_status_id_str"] = str(qid)
            d["quoted_status_permalink"] = {
                "url": TCO + synth.code62(h64(t.id, 78), 10),
                "expanded": f"https://twitter.com/{w.screen_name(quoted[0])}/status/{qid}",
                "display": f"twitter.com/{w.screen_name(quoted[0])}/s…",
            }
            if embed_quote and with_user:
                # One level only: a quoted tweet's own quoted tweet is named, never embedded.
                d["quoted_status"] = self.tweet(w.tweet(*quoted), embed=False)
        else:
            d["is_quote_status"] = False
        d["retweet_count"] = t.retweet_count
        d["favorite_count"] = t.favorite_count
        d["favorited"] = False
        d["retweeted"] = False
        if t.links or t.media:
            d["possibly_sensitive"] = False
        d["lang"] = t.lang
        return d

    def _mention(self, slot: int, start: int, end: int) -> dict[str, Any]:
        w = self.world
        uid = w.user_id(slot)
        return {"screen_name": w.screen_name(slot), "name": w.account_static(slot)[1], "id": uid,
                "id_str": str(uid), "indices": [start, end]}

    def _media(self, m: Media) -> dict[str, Any]:
        d: dict[str, Any] = {
            "id": m.id,
            "id_str": str(m.id),
            "indices": [m.start, m.end],
            "media_url": "http://" + m.url_https.removeprefix("https://"),
            "media_url_https": m.url_https,
            "url": m.tco,
            "display_url": "pic.twitter.com/" + m.tco.removeprefix(TCO),
            "expanded_url": m.expanded,
            "type": m.kind,
            "original_info": {"width": m.width, "height": m.height},
            "sizes": {
                "thumb": {"w": 150, "h": 150, "resize": "crop"},
                "small": _fit(m.width, m.height, 680),
                "medium": _fit(m.width, m.height, 1200),
                "large": _fit(m.width, m.height, 2048),
            },
        }
        if m.source_tweet is not None and m.source_user is not None:
            suid = self.world.user_id(m.source_user)
            d.update({"source_status_id": m.source_tweet, "source_status_id_str": str(m.source_tweet),
                      "source_user_id": suid, "source_user_id_str": str(suid)})
        if m.variants is not None:
            info: dict[str, Any] = {"aspect_ratio": list(m.aspect or (1, 1))}
            if m.duration_ms is not None:
                info["duration_millis"] = m.duration_ms
            info["variants"] = m.variants
            d["video_info"] = info
            if m.kind == "video":
                d["additional_media_info"] = {"monetizable": False}
        return d
