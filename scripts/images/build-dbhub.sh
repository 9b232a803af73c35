#!/usr/bin/env bash
# local/dbhub:1.4.0 — @bytebase/dbhub 1.4.0 laid out like bytebase/dbhub (needs Node >= 22.5).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
. "$here/rootfs-lib.sh"
tag=${1:-local/dbhub:1.4.0}
version=1.4.0
bash "$here/build-node22.sh" >/dev/null
hash=$(inputs_hash "$0" "$repo/test/images/dbhub/Dockerfile" "$version" "$(docker image inspect -f '{{.Id}}' local/node-base:22)")
if image_current "$tag" "$hash"; then echo "image $tag current"; exit 0; fi
ctx=$(mktemp -d)
trap 'rm -rf "$ctx"' EXIT
cp "$repo/test/images/dbhub/Dockerfile" "$ctx/"
mkdir -p "$ctx/app"
( cd "$ctx/app" && npm pack -s "@bytebase/dbhub@$version" >/dev/null \
  && tar xzf ./*.tgz --strip-components=1 && rm ./*.tgz \
  && npm install -s --omit=dev --ignore-scripts --no-audit --no-fund >/dev/null )
DOCKER_BUILDKIT=0 docker build -q --label "io.mcp-reconciler.build-inputs=$hash" -t "$tag" "$ctx" >/dev/null 2>&1
echo "built $tag"
