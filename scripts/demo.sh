#!/usr/bin/env bash
# The offline demo: starts the bundled Twitter API emulator with a small synthetic world, imports
# @alice's world from it into demo.sqlite3 with the emulator's demo credentials, and shows what
# the store holds. No network and no Twitter account needed.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh test
. .venv/bin/activate
out="$(mktemp)"
python -u -m twitter_emulator --host 127.0.0.1 --port 0 --handle alice \
    --followers 300 --followings 40 --tweets 400 --following-tweets 20 >"$out" &
emulator=$!
trap 'kill $emulator 2>/dev/null || true; rm -f "$out"' EXIT
for _ in $(seq 100); do [ -s "$out" ] && break; sleep 0.1; done
api="$(head -n1 "$out")"
echo "Emulator listening on $api"
# The emulator's own demo credentials, as environment variables: the crawler knows none, and the
# variables win over a settings_local.py with real ones, which the emulator would refuse.
eval "$(python -m twitter_emulator.credentials)"
rm -f demo.sqlite3
# API v2 (the default), as X serves it today: the summary ends with what the import would have cost.
scrapy crawl twitter -a handle=alice -s TWITTER_API_URL="$api" -s POD_URL=sqlite:///demo.sqlite3 "$@"
scrapy store counts -s POD_URL=sqlite:///demo.sqlite3
