#!/usr/bin/env bash
# local/supergateway:bench — supergateway 4.0.0 + server-everything, for the benchmark baseline.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
. "$here/rootfs-lib.sh"
tag=local/supergateway:bench
hash=$(inputs_hash "$0" "$repo/test/images/supergateway/Dockerfile" "supergateway@4.0.0 server-everything@2026.8.31" "$(docker image inspect -f '{{.Id}}' local/node-base:20)")
if image_current "$tag" "$hash"; then echo "image $tag current"; exit 0; fi
ctx=$(mktemp -d)
trap 'rm -rf "$ctx"' EXIT
cp "$repo/test/images/supergateway/Dockerfile" "$ctx/"
mkdir -p "$ctx/app"
( cd "$ctx/app" && echo '{"name":"sgw","private":true}' > package.json \
  && npm install -s --omit=dev --ignore-scripts --no-audit --no-fund supergateway@4.0.0 @modelcontextprotocol/server-everything@2026.8.31 >/dev/null )
DOCKER_BUILDKIT=0 docker build -q --label "io.mcp-reconciler.build-inputs=$hash" -t "$tag" "$ctx" >/dev/null 2>&1
echo "built $tag"
