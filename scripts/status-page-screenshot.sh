#!/usr/bin/env bash
# A PNG of a running daemon's status page, rendered by Debian's headless Chromium (as the test does).
#   status-page-screenshot.sh [URL] [OUT] [WIDTHxHEIGHT]
# Default: http://127.0.0.1:9464/ into docs/status-page.png at 1200x1500.
set -euo pipefail
url=${1:-http://127.0.0.1:9464/}
out=${2:-$(dirname "$0")/../docs/status-page.png}
size=${3:-1200x1500}
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
# --no-sandbox only as root, where Chromium refuses its sandbox.
sandbox=()
[ "$(id -u)" = 0 ] && sandbox=(--no-sandbox)
chromium --headless "${sandbox[@]}" --disable-gpu --disable-dev-shm-usage --no-first-run --hide-scrollbars \
  --user-data-dir="$profile" --window-size="${size/x/,}" --screenshot="$out" "$url" 2>/dev/null
echo "$out"
