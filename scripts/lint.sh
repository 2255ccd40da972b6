#!/usr/bin/env bash
# The checks CI runs before the tests: ruff (Scrapy's rule families; the crawler held to all of
# them) and mypy --strict on the crawler package. Any finding fails.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh pod,postgres,redis,queue,test,bench,lint
.venv/bin/ruff check .
.venv/bin/mypy
