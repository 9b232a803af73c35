#!/usr/bin/env bash
# A local stand-in for an upstream MCP server image, from its npm package, laid out like the
# upstream image (test/images/<dir>/Dockerfile says how).
#   build-npm-server.sh PACKAGE VERSION TAG DOCKERFILE_DIR [BASE_IMAGE]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
. "$here/rootfs-lib.sh"
pkg=$1 version=$2 tag=$3 dir=$4 base=${5:-local/node-base:20}
hash=$(inputs_hash "$0" "$repo/test/images/$dir/Dockerfile" "$pkg@$version" "$(docker image inspect -f '{{.Id}}' "$base")")
if image_current "$tag" "$hash"; then echo "image $tag current"; exit 0; fi
ctx=$(mktemp -d)
trap 'rm -rf "$ctx"' EXIT
cp "$repo/test/images/$dir/Dockerfile" "$ctx/"
mkdir -p "$ctx/app"
( cd "$ctx/app" && npm pack -s "$pkg@$version" >/dev/null \
  && tar xzf ./*.tgz --strip-components=1 && rm ./*.tgz \
  && npm install -s --omit=dev --ignore-scripts --no-audit --no-fund >/dev/null )
DOCKER_BUILDKIT=0 docker build -q --build-arg "BASE=$base" --label "io.mcp-reconciler.build-inputs=$hash" -t "$tag" "$ctx" >/dev/null 2>&1
echo "built $tag"
