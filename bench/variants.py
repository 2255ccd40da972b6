"""``python -m bench variants [--store sqlite|pod]``: candidate fixes, side by side.

Crawls one throughput world (40 followings × 200 tweets + 3,200 own: 11,200 timeline tweets;
quotas off) once per variant of :data:`bench.experiments.VARIANTS`, round after round in the same
order, against one emulator. The crawler's code is not changed: a variant only adds ``-s``
settings.
Each variant is compared with the unchanged crawl of the same round: the ratio of tweets/s and
of crawl CPU seconds (CPU seconds move less than wall time on a shared machine).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench import plan as planning
from bench.experiments import VARIANTS
from bench.harness import Run, crawl, emulator, median, new_pod_keys, podserver, spread
from bench.report import provenance, table, write_section
from bench.throughput import world_args

SIZE = {"followers": 100, "followings": 40, "tweets": 3200, "per_following": 200}
QUICK = {"followers": 20, "followings": 5, "tweets": 400, "per_following": 200}


def run(workdir: Path, *, quick: bool, repeat: int, store: str, output: Path | None,
        argv: list[str]) -> dict[str, Any]:
    size = QUICK if quick else SIZE
    emu_args = world_args(size)
    runs: dict[str, list[Run]] = {name: [] for name in VARIANTS}
    with emulator(*emu_args, log=workdir / "variants.emulator.log") as emu:
        summary = emu.get_json("/_emulator/world")
        tweets = planning.crawl_plan(summary, size["per_following"],
                                     {"follower": "list", "following": "list"}).timeline_tweets
        for i in range(repeat):
            for name, (_, settings) in VARIANTS.items():
                settings = dict(settings)
                spider = settings.pop("SPIDER", "twitter")
                label = f"variant-{i}-{abs(hash(name)) % 10**8}"
                if store == "pod":
                    with podserver(log=workdir / f"{label}.podserver.log") as pod:
                        owner, db = new_pod_keys()
                        r = crawl(emu.url, workdir, label, args={"following_tweets": str(size["per_following"])},
                                  settings=settings, spider=spider, pod=(pod.url, owner, db))
                else:
                    r = crawl(emu.url, workdir, label, args={"following_tweets": str(size["per_following"])},
                              settings=settings, spider=spider)
                if r.stored["Tweet"] < tweets:
                    raise RuntimeError(f"variant {name!r} stored {r.stored['Tweet']} tweets, fewer than {tweets}")
                runs[name].append(r)
                print(f"  variant {name!r} #{i + 1}: {tweets / r.to_last_commit:,.0f} tweets/s, "
                      f"CPU {r.usage.cpu:.1f} s", flush=True)
    base = runs["as is"]
    rows = []
    for name, (why, _settings) in VARIANTS.items():
        rs = runs[name]
        rate = [tweets / r.to_last_commit for r in rs]
        rows.append([
            f"**{name}**", why,
            spread(rate, "{:,.0f}"),
            spread([tweets / r.to_last_commit / (tweets / b.to_last_commit) for r, b in zip(rs, base, strict=False)], "{:.2f}"),
            spread([r.usage.cpu for r in rs], "{:,.1f}"),
            spread([b.usage.cpu / r.usage.cpu for r, b in zip(rs, base, strict=False)], "{:.2f}"),
            f"{median([float(r.stat('item_scraped_count')) for r in rs]):,.0f}",
        ])
    body = "\n".join([
        f"## Candidate fixes, side by side ({'embedded store' if store == 'sqlite' else 'Pod test server'})",
        "",
        provenance(argv),
        "",
        f"World: `python -m twitter_emulator {' '.join(emu_args)}` ({tweets:,} timeline tweets), "
        "every variant once per round, same order, same emulator. *× as is* compares with the unchanged "
        "crawl of the same round (tweets/s: higher is better; CPU: as-is CPU ÷ variant CPU, higher is "
        "better). Items = Scrapy items through the pipelines.",
        "",
        table(["variant", "what", "tweets/s", "× as is", "crawl CPU s", "CPU × as is", "Scrapy items"], rows),
    ])
    print(body)
    if output is not None:
        write_section(f"variants-{store}", body, output)
    return {n: [tweets / r.to_last_commit for r in rs] for n, rs in runs.items()}
