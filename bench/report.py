"""BENCHMARKS.md: one section per benchmark, each rewritten by its own command.

A section lives between ``<!-- bench:NAME -->`` and ``<!-- /bench:NAME -->``; text outside the
markers (the findings, written by people) is kept as it is. A missing section is added in the
order of :data:`ORDER`, before the first later section, else at the end.
"""

from __future__ import annotations

import re
import shlex
import sys
from pathlib import Path

from bench.harness import ROOT, machine

ORDER = ("throughput", "throughput-full", "throughput-variant", "throughput-full-variant", "throughput-compare", "quota", "side", "scale", "scale-full", "mediaspan", "cost", "archive", "sharedbudget", "profile-sqlite", "profile-pod", "variants-sqlite", "variants-pod")
DEFAULT = ROOT / "BENCHMARKS.md"

HEADER = """# Benchmarks

Measured by `bench/` (PRODUCT.md §11), not by timed tests. Every figure comes from real
processes on this machine: the API emulator (`python -m twitter_emulator`), the Pod test
server (`python -m pod_testserver`), `scrapy crawl twitter` and, for the side-by-side,
a tweepy importer that works like the original Memri plugin (`bench/baseline.py`).

```bash
bash scripts/setup.sh pod,test,bench && . .venv/bin/activate   # once (see bench/README.md)
python -m bench all            # the four benchmarks, rewrites sections 1-4 below (10-15 minutes)
python -m bench all --quick    # a smoke run on tiny worlds (under 2 minutes); --no-write prints only
python -m bench throughput     # or quota, side, scale: one benchmark, one section
python -m bench throughput --full; python -m bench scale --full   # the issue's full sizes (about 8 and 13 minutes)
python -m bench profile; python -m bench variants                 # diagnostics (add --store pod)
```

Each section below is rewritten by its command and says how it was made: the exact command, the
date, the commit, the core count and the load average when it started. Figures with a spread are
`median (min–max, n=runs)`. The machine is shared (other test suites may run beside a benchmark):
ratios are measured side by side in one run, and every figure is repeated.
"""


def marker(name: str) -> tuple[str, str]:
    return f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"


#: The machine as the running benchmark found it (:func:`mark_start`). Sections are written after
#: their runs, and a load average read then is the benchmark's own (minutes of both cores busy).
_START: dict[str, str] = {}


def mark_start() -> None:
    """Notes the date, commit and load average before a benchmark's first run, for :func:`provenance`."""
    _START.clear()
    _START.update(machine())


def provenance(argv: list[str] | None = None) -> str:
    m = _START or machine()
    cmd = "python -m bench " + " ".join(shlex.quote(a) for a in (argv if argv is not None else sys.argv[1:]))
    return (f"`{cmd}` · {m['date']} · commit `{m['commit'][:12]}` · {m['cores']} cores ({m['cpu']}) · "
            f"Python {m['python']} · load average at start {m['load']}")


def write_section(name: str, body: str, path: Path | None = None) -> Path:
    path = path or DEFAULT
    text = path.read_text(encoding="utf-8") if path.exists() else HEADER
    start, end = marker(name)
    block = f"{start}\n{body.rstrip()}\n{end}"
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.S)
    if pattern.search(text):
        text = pattern.sub(lambda _: block, text, count=1)
    else:
        later = [n for n in ORDER[ORDER.index(name) + 1:] if marker(n)[0] in text] if name in ORDER else []
        if later:
            pos = text.index(marker(later[0])[0])
            text = text[:pos] + block + "\n\n" + text[pos:]
        else:
            text = text.rstrip() + "\n\n" + block + "\n"
    path.write_text(text, encoding="utf-8")
    return path


def table(header: list[str], rows: list[list[str]]) -> str:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(out)
