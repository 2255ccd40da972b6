#!/usr/bin/env bash
# Installs the Debian packages the tests need (scripts/system.sh), sets up .venv with everything the tests need, then runs all tests (arguments go to pytest).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/system.sh
bash scripts/setup.sh pod,postgres,redis,queue,test,bench,lint
exec .venv/bin/python -m pytest "$@"
