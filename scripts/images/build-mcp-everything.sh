#!/usr/bin/env bash
# local/mcp-everything:test — @modelcontextprotocol/server-everything laid out like mcp/everything.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
. "$here/rootfs-lib.sh"
tag=${1:-local/mcp-everything:test}
version=2026.8.31
if image_exists "$tag" && [ -z "${REBUILD:-}" ]; then echo "image $tag present"; exit 0; fi
ctx=$(mktemp -d)
trap 'rm -rf "$ctx"' EXIT
cp "$repo/test/images/mcp-everything/Dockerfile" "$ctx/"
mkdir -p "$ctx/app"
( cd "$ctx/app" && npm pack -s "@modelcontextprotocol/server-everything@$version" >/dev/null \
  && tar xzf ./*.tgz --strip-components=1 && rm ./*.tgz \
  && npm install -s --omit=dev --ignore-scripts --no-audit --no-fund >/dev/null )
DOCKER_BUILDKIT=0 docker build -q -t "$tag" "$ctx" >/dev/null
echo "built $tag"
