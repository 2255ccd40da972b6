"""Prints, when a crawl ends, one summary a person can read.

What was imported (accounts, tweets, media, links, edges), how much of it was new, what was
skipped and why, the requests made, the time spent waiting for rate limits, and where the data
went. It reads the crawl's stats only.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from scrapy import signals

from twitter_crawler.api.prices import dollars
from twitter_crawler.spiders.accounts import REASONS, skipped_accounts

if TYPE_CHECKING:
    from typing import Self

    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

TYPES = (("Account", "accounts"), ("Tweet", "tweets"), ("Photo", "photos"),
         ("Video", "videos"), ("Website", "links"), ("File", "files"))
SKIPS = (("protected", "protected timelines"), ("unavailable", "unavailable timelines"),
         ("failed", "failed requests"), ("malformed_gave_up", "unreadable answers"))


class SummaryExtension:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        ext = cls(crawler)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def spider_closed(self, reason: str) -> None:
        logger.info("%(summary)s", {"summary": self.summary(reason)})

    def summary(self, reason: str) -> str:
        stats = self.crawler.stats.get_stats()

        def total(prefix: str) -> int:
            return sum(v for k, v in stats.items() if k.startswith(prefix) and isinstance(v, int))

        lines = [f"Import {'finished' if reason == 'finished' else 'stopped: ' + reason}"]
        requested = stats.get("twitter/accounts/requested", 1)
        if requested > 1:  # several accounts (-a handles=): which were imported
            names = skipped_accounts(stats)
            # In the order they were asked for, not the order their answers came in.
            asked = {h.lower(): i for i, h in enumerate(getattr(self.crawler.spider, "handles", ()))}
            ordered = sorted(names.items(), key=lambda name: asked.get(name[0].lower(), len(asked)))
            lines.append(
                f"  {'imported':<9} {requested - len(names):>8,}  of {requested:,} accounts"
                + ("" if not names else "; skipped: " + ", ".join(
                    f"@{h} ({REASONS.get(r, r)})" for h, r in ordered)))
        for kind, label in TYPES:
            new = stats.get(f"twitter/store/created/{kind}", 0)
            known = (stats.get(f"twitter/store/updated/{kind}", 0)
                     + stats.get(f"twitter/store/unchanged/{kind}", 0))
            lines.append(f"  {label:<9} {new + known:>8,}  ({new:,} new, {known:,} already known)")
        if stats.get("twitter/media/downloaded") or stats.get("twitter/media/failed"):
            mb = stats.get("twitter/media/bytes", 0) / 1e6
            failed = stats.get("twitter/media/failed", 0)
            lines.append(
                f"  media     {stats.get('twitter/media/downloaded', 0):>8,}  downloaded "
                f"({mb:,.1f} MB), {failed:,} failed" + (" (tried again next run)" if failed else "")
            )
        edges_new = total("twitter/store/edges_created/")
        edges_removed = total("twitter/store/edges_removed/")
        lines.append(f"  {'edges':<9} {edges_new:>8,}  new, {edges_removed:,} removed (unfollows)")
        skipped = [f"{stats[f'twitter/errors/{key}']:,} {label}" for key, label in SKIPS
                   if stats.get(f"twitter/errors/{key}")]
        if stats.get("twitter/archive/files_missing"):
            skipped.append(f"{stats['twitter/archive/files_missing']:,} media files the archive lacks")
        if stats.get("twitter/archive/skipped"):
            skipped.append(f"{stats['twitter/archive/skipped']:,} unreadable archive records")
        if stats.get("twitter/spider/skipped_objects"):
            skipped.append(f"{stats['twitter/spider/skipped_objects']:,} unreadable objects")
        lines.append(f"  skipped   {', '.join(skipped) if skipped else 'nothing'}")
        waited = stats.get("twitter/ratelimit/wait_seconds", 0.0)
        # Every attempt sent to the API is signed (or carries the bearer token); the rest of
        # the downloads are media files.
        api = stats.get("twitter/oauth/signed", 0) + stats.get("twitter/oauth/bearer", 0)
        media = stats.get("downloader/request_count", 0) - api
        lines.append(
            f"  requests  {api:,} to the API "
            f"({stats.get('twitter/ratelimit/parked', 0):,} parked for rate limits, "
            f"{waited:,.0f}s waiting)" + (f", {media:,} for media files" if media > 0 else "")
        )
        cost = cost_line(stats)
        if cost:
            lines.append(f"  cost      {cost}")
        lines.append(f"  stored in {stats.get('twitter/store/where', 'nowhere (no store)')}")
        return "\n".join(lines)


#: The cost meter's kinds (twitter/cost/<kind>/count) as the summary names them.
COST_KINDS = (("posts", "post", "posts"), ("users", "user", "users"),
              ("follows", "follower/following", "followers/followings"),
              ("owned", "owned read", "owned reads"))


def cost_line(stats: dict[str, Any]) -> str | None:
    """What the import cost, as the cost middleware metered it (None without a meter)."""
    if "twitter/cost/micro_usd" not in stats:
        version = stats.get("twitter/cost/unbilled_version")
        if version:
            return f"not billed per resource (API v{version}: Enterprise, priced by contract)"
        return None
    parts = [f"{n:,} {one if n == 1 else many}" for kind, one, many in COST_KINDS
             if (n := stats.get(f"twitter/cost/{kind}/count", 0))]
    line = f"{dollars(stats['twitter/cost/micro_usd'])}: {', '.join(parts) or 'nothing billed'}"
    if stats.get("twitter/cost/free"):
        line += f" ({stats['twitter/cost/free']:,} read again today: free)"
    posts = stats.get("twitter/cost/includes/posts", 0)
    users = stats.get("twitter/cost/includes/users", 0)
    if posts or users:
        line += (f"; includes {posts:,} posts, {users:,} users (not counted: X does not say "
                 "whether they are billed)")
    return line
