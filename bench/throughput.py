"""Benchmark 1: throughput with quotas off, into the embedded store and into the Pod test server.

The world: one account following 500 accounts of 200 tweets each, with 3,200 tweets of its own
(and 100 followers), crawled with ``following_tweets=200``: 103,200 timeline tweets. Each repeat
crawls it once per configuration (:data:`CONFIGS`: both stores through API v1.1 without media,
which the targets are about; API v2; photos and profile pictures on), each into a fresh store,
in rotating order, against one emulator with quotas off and no added latency.

Tweets per second = timeline tweets imported / seconds from the launch of ``scrapy crawl`` to the
commit of its last store batch (the stats collector times it). Peak memory = the crawl process's
own peak RSS (``os.wait4``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import plan as planning
from bench.harness import (
    ROOT,
    Run,
    checkout,
    crawl,
    drop_checkout,
    emulator,
    median,
    new_pod_keys,
    podserver,
    spread,
)
from bench.report import provenance, table, write_section

FULL = {"followers": 100, "followings": 500, "tweets": 3200, "per_following": 200}
#: The default (and ``all``'s): a fifth of the followings, so that repeats of both stores fit
#: the 15 minutes of ``all``; the rate does not depend on the size (see the scale benchmark).
DEFAULT = {"followers": 100, "followings": 100, "tweets": 3200, "per_following": 200}
QUICK = {"followers": 50, "followings": 20, "tweets": 400, "per_following": 200}
TARGETS = {"sqlite": 5000.0, "pod": 2000.0}
PHOTOS = "photos,avatars"


@dataclass(frozen=True)
class Config:
    name: str
    store: str
    api: str = "1.1"
    media: str = ""
    label: str = ""

    @property
    def settings(self) -> dict[str, str]:
        return {"TWITTER_API_VERSION": self.api, "TWITTER_MEDIA": self.media}

    @property
    def target(self) -> float | None:
        """The issue's targets are for the API import (v1.1, no media)."""
        return TARGETS[self.store] if self.api == "1.1" and not self.media else None


CONFIGS = (
    Config("sqlite", "sqlite", label="embedded SQLite store"),
    Config("pod", "pod", label="Pod test server (pymemri)"),
    Config("sqlite-v2", "sqlite", api="2", label="embedded SQLite store, API v2"),
    Config("sqlite-photos", "sqlite", media=PHOTOS,
           label="embedded SQLite store, photos + profile pictures"),
    Config("pod-photos", "pod", media=PHOTOS, label="Pod test server, photos + profile pictures"),
)


def world_args(size: dict[str, int], *, quotas: bool = False) -> list[str]:
    args = ["--handle", "alice", "--followers", str(size["followers"]),
            "--followings", str(size["followings"]), "--tweets", str(size["tweets"]),
            "--following-tweets", str(size["per_following"]),
            "--protected-followings", "0", "--suspended-followings", "0"]
    if not quotas:
        args += ["--quotas", "off"]
    return args


@dataclass
class Measure:
    store: str
    run: Run
    tweets: int  # timeline tweets the world holds for this crawl
    helper_cpu: float = 0.0  # the Pod test server's CPU seconds (Pod runs)

    @property
    def rate(self) -> float:
        return self.tweets / self.run.to_last_commit

    @property
    def rate_open(self) -> float:
        """Same, from the spider's opening (after Python and Scrapy have started)."""
        return self.tweets / (self.run.last_commit - self.run.stat("start_time"))


def crawl_once(api: str, workdir: Path, name: str, store: str, per_following: int,
               tweets: int, wrap: list[str] | None = None, variant: str | None = None,
               config: Config | None = None, root: Path = ROOT) -> Measure:
    args = {"following_tweets": str(per_following)}
    settings: dict[str, str] = dict(config.settings) if config else {}
    if variant:
        from bench.experiments import VARIANTS

        settings.update(VARIANTS[variant][1])
    spider = settings.pop("SPIDER", "twitter")
    if store == "sqlite":
        return Measure(store, crawl(api, workdir, name, args=args, wrap=wrap, settings=settings, spider=spider,
                                    root=root), tweets)
    with podserver(log=workdir / f"{name}.podserver.log") as pod:
        owner, db = new_pod_keys()
        run = crawl(api, workdir, name, args=args, pod=(pod.url, owner, db), wrap=wrap, settings=settings,
                    spider=spider, root=root)
    return Measure(store, run, tweets, pod.usage.cpu if pod.usage else 0.0)


def run(workdir: Path, *, quick: bool, full: bool, repeat: int, output: Path | None,
        argv: list[str], variant: str | None = None) -> dict[str, Any]:
    size = QUICK if quick else FULL if full else DEFAULT
    emu_args = world_args(size)
    # A candidate fix is measured on the two base configurations only.
    configs = CONFIGS[:2] if variant else CONFIGS
    results: dict[Config, list[Measure]] = {c: [] for c in configs}
    with emulator(*emu_args, log=workdir / "throughput.emulator.log") as emu:
        summary = emu.get_json("/_emulator/world")
        p = planning.crawl_plan(summary, size["per_following"], {"follower": "list", "following": "list"})
        for i in range(repeat):
            shift = i % len(configs)  # rotate, so that no configuration always goes first
            for config in configs[shift:] + configs[:shift]:
                m = crawl_once(emu.url, workdir, f"throughput-{config.name}-{i}", config.store,
                               size["per_following"], p.timeline_tweets, variant=variant, config=config)
                results[config].append(m)
                print(f"  throughput {config.name} #{i + 1}: {m.tweets:,} tweets in "
                      f"{m.run.to_last_commit:.1f} s = {m.rate:,.0f} tweets/s, peak RSS "
                      f"{m.run.usage.max_rss_mb:.0f} MB, crawl CPU {m.run.usage.cpu:.1f} s, "
                      f"{m.run.stat('twitter/media/downloaded'):,} media files", flush=True)
    emu_usage = emu.usage
    body = render(results, size, emu_args, p, emu_usage.cpu if emu_usage else 0.0, argv, full, variant)
    print(body)
    if output is not None:
        write_section(("throughput-full" if full else "throughput") + ("-variant" if variant else ""), body, output)
    return {c.name: [m.rate for m in ms] for c, ms in results.items()}


def render(results: dict[Config, list[Measure]], size: dict[str, int], emu_args: list[str],
           p: planning.Plan, emu_cpu: float, argv: list[str], full: bool = False,
           variant: str | None = None) -> str:
    rows = []
    base = {c.store: median([m.run.to_last_commit for m in ms])
            for c, ms in results.items() if c.target and ms}
    for config, ms in results.items():
        if not ms:
            continue
        store, label = config.store, config.label
        rates = [m.rate for m in ms]
        tweet_items = [m.run.stored["Tweet"] for m in ms]
        all_items = [sum(m.run.stored.values()) / m.run.to_last_commit for m in ms]
        seconds = median([m.run.to_last_commit for m in ms])
        files = [m.run.stat("twitter/media/downloaded") for m in ms]
        mbytes = [m.run.stat("twitter/media/bytes") / 1e6 for m in ms]
        rows.append([
            label,
            spread(rates, "{:,.0f}"),
            f"{config.target:,.0f} ({median(rates) / config.target:.0%} of it)" if config.target
            else f"time × {seconds / base[store]:.2f} of the same store, v1.1 without media"
            if store in base else "–",
            spread([m.rate_open for m in ms], "{:,.0f}"),
            spread([m.run.to_last_commit for m in ms], "{:,.1f}"),
            spread(all_items, "{:,.0f}"),
            spread([m.run.usage.max_rss_mb for m in ms], "{:,.0f}"),
            spread([m.run.usage.cpu / m.run.usage.wall for m in ms], "{:.0%}"),
            spread([m.helper_cpu for m in ms], "{:,.1f}") if store == "pod" else "–",
            f"{median(tweet_items):,.0f}",
            f"{median(files):,.0f} ({median(mbytes):,.1f} MB)" if config.media else "off",
        ])
    n_crawls = sum(len(v) for v in results.values())
    lines = [
        "## 1. Throughput, quotas off" + (" (the issue's full world)" if full else "")
        + (f" — candidate fix “{variant}” (`bench/experiments.py`), not the crawler as it is" if variant else ""),
        "",
        provenance(argv),
        "",
        f"World: `python -m twitter_emulator {' '.join(emu_args)}` — @alice follows "
        f"{size['followings']:,} accounts with {size['per_following']:,} tweets each and has "
        f"{size['tweets']:,} tweets of her own ({size['followers']:,} followers); crawled with "
        f"`scrapy crawl twitter -a handle=alice -a following_tweets={size['per_following']}`: "
        f"**{p.timeline_tweets:,} timeline tweets**, {p.total:,} requests (API v1.1). Each repeat crawls "
        "it once per row below, each into a fresh SQLite file or a fresh Pod test server (fresh keys), "
        "in rotating order. The targets are for the API import (v1.1, `-s TWITTER_MEDIA=` as in every "
        "benchmark but the *photos* rows); *API v2* reads the same world through `/2` "
        "(`-s TWITTER_API_VERSION=2`: 100 tweets a page instead of 200); *photos + profile pictures* "
        "is the crawler's default `TWITTER_MEDIA=photos,avatars`, served by the emulator's media "
        "listener on the same machine."
        + ("" if full else " The issue's world has 500 followings (103,200 tweets); `all` uses 100 to fit "
           "two repeats of both stores in its 15 minutes, and `python -m bench throughput --full` runs "
           "the 500 (its own section below)."),
        "",
        "*tweets/s* = timeline tweets ÷ seconds from launching `scrapy crawl` to the commit of the last "
        "store batch (timed by `bench.statscollector`); *from spider open* leaves out Python's and "
        "Scrapy's start-up. *items+edges/s* counts every stored item and edge (accounts, tweets with "
        "the retweeted and quoted ones, media, links, edges). Peak RSS is the crawl process's own "
        "(`os.wait4`). *CPU/wall* is the crawl process's CPU seconds (all threads) per second.",
        "",
        table(["configuration", "tweets/s", "target", "tweets/s from spider open",
               "seconds to last commit", "items+edges/s", "peak RSS MB", "crawl CPU/wall",
               "Pod server CPU s", "Tweet items stored", "media files downloaded"],
              rows),
        "",
        f"The emulator used {emu_cpu:,.1f} CPU seconds over all {n_crawls} crawls "
        f"({emu_cpu / max(1, n_crawls):,.1f} s per crawl).",
    ]
    return "\n".join(lines)


def compare(workdir: Path, rev: str, *, quick: bool, repeat: int, output: Path | None,
            argv: list[str]) -> dict[str, Any]:
    """The two target configurations (v1.1, no media, each store) crawled by this tree and by
    commit ``rev``, side by side against one emulator: repeat after repeat, each configuration
    by both trees, in alternating order. A restructuring must not cost throughput."""
    size = QUICK if quick else DEFAULT
    emu_args = world_args(size)
    old = checkout(rev, workdir)
    trees = {"this tree": ROOT, rev: old}
    configs = CONFIGS[:2]
    results: dict[tuple[str, str], list[Measure]] = {(c.name, t): [] for c in configs for t in trees}
    try:
        with emulator(*emu_args, log=workdir / "compare.emulator.log") as emu:
            summary = emu.get_json("/_emulator/world")
            p = planning.crawl_plan(summary, size["per_following"], {"follower": "list", "following": "list"})
            for i in range(repeat):
                for config in configs:
                    order = list(trees.items()) if i % 2 == 0 else list(trees.items())[::-1]
                    for tree, root in order:
                        m = crawl_once(emu.url, workdir, f"compare-{config.name}-{i}-{tree.replace(' ', '-')}",
                                       config.store, size["per_following"], p.timeline_tweets,
                                       config=config, root=root)
                        results[(config.name, tree)].append(m)
                        print(f"  compare {config.name} {tree} #{i + 1}: {m.rate:,.0f} tweets/s", flush=True)
    finally:
        drop_checkout(old)
    rows = []
    for config in configs:
        new = [m.rate for m in results[(config.name, "this tree")]]
        before = [m.rate for m in results[(config.name, rev)]]
        ratio = median(new) / median(before)
        rows.append([config.label, spread(before, "{:,.0f}"), spread(new, "{:,.0f}"),
                     f"**{ratio:.2f}** ({'within' if ratio >= 0.95 else 'beyond'} 5%)"])
    body = "\n".join([
        "## Throughput against an older tree",
        "",
        provenance(argv),
        "",
        f"World: `python -m twitter_emulator {' '.join(emu_args)}` ({p.timeline_tweets:,} timeline tweets, API "
        f"v1.1, `-s TWITTER_MEDIA=`). Each repeat crawls it into a fresh store with this tree's crawler and "
        f"with commit `{rev}`'s (a `git worktree` of it, run the same way), alternating which goes first; "
        "the emulator and the Pod test server are this tree's for both. *tweets/s* as in section 1.",
        "",
        table(["configuration", f"tweets/s, `{rev}`", "tweets/s, this tree", "this tree ÷ older"], rows),
    ])
    print(body)
    if output is not None:
        write_section("throughput-compare", body, output)
    return {f"{c}/{t}": [m.rate for m in ms] for (c, t), ms in results.items()}
