"""``python -m bench {throughput,quota,side,scale,mediaspan,cost,archive,sharedbudget,profile,all} [--quick] [--repeat N] ...``

Each benchmark prints its figures and rewrites its own section of BENCHMARKS.md (``--output``
names another file, ``--no-write`` writes none). ``all`` runs the benchmarks in order.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

from bench.report import DEFAULT, mark_start

BENCHMARKS = ("throughput", "quota", "side", "scale", "mediaspan", "cost", "archive", "sharedbudget")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m bench",
        description="twitter_crawler benchmarks (PRODUCT.md §11). Each prints its figures and rewrites "
                    "its section of BENCHMARKS.md.",
    )
    p.add_argument("benchmark", choices=(*BENCHMARKS, "profile", "variants", "all"),
                   help="one benchmark; all: those in order; profile and variants: diagnostics")
    p.add_argument("--quick", action="store_true", help="tiny worlds, one repeat: a smoke run")
    p.add_argument("--repeat", type=int, default=None,
                   help="runs per measurement (default: 2; 1 with --quick)")
    p.add_argument("--factor", type=float, default=None,
                   help="time compression F for the quota benchmarks: window 900/F s, latency 0.15/F s "
                        "(default 60; 300 with --quick)")
    p.add_argument("--full", action="store_true",
                   help="throughput and scale: the issue's full sizes (500 followings × 200 tweets; 3,200 "
                        "tweets on each of 200 followings); slow, each writes its own section")
    p.add_argument("--compare", default=None, metavar="REV",
                   help="throughput: the target configurations crawled by this tree and by commit REV, side by "
                        "side (its own section); mediaspan: rows for commit REV's crawler too; archive: "
                        "imports by commit REV's crawler too, side by side")
    p.add_argument("--variant", default=None,
                   help="throughput: crawl with a candidate fix of bench/experiments.py (its own section)")
    p.add_argument("--store", choices=("sqlite", "pod"), default="sqlite", help="profile, variants: which store")
    p.add_argument("--output", type=Path, default=DEFAULT, help="the Markdown file to rewrite sections of")
    p.add_argument("--no-write", action="store_true", help="print only, write no file")
    p.add_argument("--workdir", type=Path, default=None,
                   help="keep logs, stats and stores here (default: a temporary directory, removed)")
    return p


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    output = None if args.no_write else args.output
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="twitter-crawler-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    names = BENCHMARKS if args.benchmark == "all" else (args.benchmark,)
    started = time.monotonic()
    try:
        for name in names:
            t0 = time.monotonic()
            print(f"== {name} ==", flush=True)
            mark_start()
            run_one(name, args, workdir, output, argv)
            print(f"== {name}: {time.monotonic() - t0:,.0f} s ==", flush=True)
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            print(f"logs, stats and stores kept in {workdir}")
    print(f"done in {time.monotonic() - started:,.0f} s" + (f"; figures written to {output}" if output else ""))
    return 0


def run_one(name: str, args: argparse.Namespace, workdir: Path, output: Path | None, argv: list[str]) -> None:
    quick = args.quick
    if name == "throughput" and args.compare:
        from bench import throughput

        throughput.compare(workdir, args.compare, quick=quick, repeat=args.repeat or (1 if quick else 3),
                           output=output, argv=argv)
    elif name == "throughput":
        from bench import throughput

        throughput.run(workdir, quick=quick, full=args.full, repeat=args.repeat or (1 if quick else 2),
                       output=output, argv=argv, variant=args.variant)
    elif name == "quota":
        from bench import quota

        quota.run(workdir, quick=quick, repeat=args.repeat or (1 if quick else 2),
                  factor=args.factor or (300.0 if quick else 60.0), output=output, argv=argv)
    elif name == "side":
        from bench import side

        side.run(workdir, quick=quick, repeat=args.repeat or (1 if quick else 2),
                 factor=args.factor or (300.0 if quick else 60.0), output=output, argv=argv)
    elif name == "scale":
        from bench import scale

        scale.run(workdir, quick=quick, full=args.full, repeat=args.repeat or (1 if quick else 2),
                  output=output, argv=argv)
    elif name == "mediaspan":
        from bench import mediaspan

        mediaspan.run(workdir, quick=quick, repeat=args.repeat or (1 if quick else 2), output=output, argv=argv,
                      compare=args.compare)
    elif name == "cost":
        from bench import cost

        cost.run(workdir, quick=quick, output=output, argv=argv)
    elif name == "archive":
        from bench import archive

        archive.run(workdir, quick=quick, repeat=args.repeat or (1 if quick else 2), output=output, argv=argv,
                    compare=args.compare)
    elif name == "sharedbudget":
        from bench import sharedbudget

        sharedbudget.run(workdir, quick=quick, repeat=args.repeat or 1, output=output, argv=argv)
    elif name == "profile":
        from bench import profile

        profile.run(workdir, quick=quick, store=args.store, output=output, argv=argv)
    elif name == "variants":
        from bench import variants

        variants.run(workdir, quick=quick, repeat=args.repeat or (1 if quick else 2), store=args.store,
                     output=output, argv=argv)


if __name__ == "__main__":
    sys.exit(main())
