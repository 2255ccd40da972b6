#!/usr/bin/env bash
# Installs the Debian packages the project and its tests need, when one is missing (as root, with
# apt-get; elsewhere it says what to install). scripts/test.sh and .ci/run call it first.
#   build-essential python3-dev libjpeg-dev zlib1g-dev: pymemri 0.1.2 (the Pod extra) pins
#     Pillow 8.4.0, which has no wheel for Python 3.11 and is compiled;
#   faketime: tests run the emulator and a crawl across midnight UTC (tests/cost/test_day_rollover.py);
#   postgresql: the PostgreSQL store's tests start their own server (initdb + postgres on
#     127.0.0.1, as the postgres user when run as root: the package brings the binaries and that
#     user); not needed when initdb is already installed some other way;
#   redis-server: the shared rate-limit budgets' tests (tests/ratelimit, tests/secrets) and
#     `python -m bench sharedbudget` start their own on 127.0.0.1 (and fail, not skip, without it).
set -euo pipefail
packages="build-essential python3-dev libjpeg-dev zlib1g-dev faketime redis-server"
missing=""
for pkg in $packages; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing="$missing $pkg"
done
if ! command -v initdb >/dev/null && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    missing="$missing postgresql"
fi
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing
else
    echo "Missing Debian packages:$missing. Install them: sudo apt-get install$missing" >&2
    exit 1
fi
