#!/usr/bin/env bash
# local/mcp-reconciler:test — this repository's compiled code on local/node-base:20. Always
# rebuilt (cheap, ~2 s) because the code changes.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
tag=${1:-local/mcp-reconciler:test}
[ -f "$repo/dist/src/main.js" ] || (cd "$repo" && npm run -s build)
ctx=$(mktemp -d)
trap 'rm -rf "$ctx"' EXIT
cp "$repo/test/images/reconciler/Dockerfile" "$ctx/"
mkdir -p "$ctx/app"
tar -C "$repo" -c package.json dist/src node_modules | tar -C "$ctx/app" -x
DOCKER_BUILDKIT=0 docker build -q -t "$tag" "$ctx" >/dev/null 2>&1
echo "built $tag"
