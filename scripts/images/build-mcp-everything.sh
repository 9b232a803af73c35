#!/usr/bin/env bash
# local/mcp-everything:test — @modelcontextprotocol/server-everything laid out like mcp/everything.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
. "$here/rootfs-lib.sh"
tag=${1:-local/mcp-everything:test}
version=2026.8.31
base=local/node-base:20
hash=$(inputs_hash "$0" "$repo/test/images/mcp-everything/Dockerfile" "$version" "$(docker image inspect -f '{{.Id}}' "$base")")
if image_current "$tag" "$hash"; then echo "image $tag current"; exit 0; fi
ctx=$(mktemp -d)
trap 'rm -rf "$ctx"' EXIT
cp "$repo/test/images/mcp-everything/Dockerfile" "$ctx/"
mkdir -p "$ctx/app"
( cd "$ctx/app" && npm pack -s "@modelcontextprotocol/server-everything@$version" >/dev/null \
  && tar xzf ./*.tgz --strip-components=1 && rm ./*.tgz \
  && npm install -s --omit=dev --ignore-scripts --no-audit --no-fund >/dev/null )
DOCKER_BUILDKIT=0 docker build -q --label "io.mcp-reconciler.build-inputs=$hash" -t "$tag" "$ctx" >/dev/null 2>&1
echo "built $tag"
