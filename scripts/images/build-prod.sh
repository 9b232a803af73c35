#!/usr/bin/env bash
# The production image from ./Dockerfile, built offline-capable from the local Node 22 bases
# through build arguments (CI runs it once against the real dockerd: test/integration/image.test.ts).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
. "$here/rootfs-lib.sh"
tag=${1:-local/mcp-reconciler:prod}
bash "$here/build-node22.sh" >/dev/null
hash=$(cd "$repo" && inputs_hash Dockerfile .dockerignore package.json package-lock.json tsconfig.json tsconfig.build.json systemd/mcp-reconciler.service "$(find src catalog schema -type f | sort | xargs cat | sha256sum)" "$(docker image inspect -f '{{.Id}}' local/node-build:22 local/node-base:22)")
if image_current "$tag" "$hash"; then echo "image $tag current"; exit 0; fi
DOCKER_BUILDKIT=0 docker build -q \
  --build-arg NODE_IMAGE=local/node-build:22 \
  --build-arg RUNTIME_IMAGE=local/node-base:22 \
  --build-arg NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt \
  --label "io.mcp-reconciler.build-inputs=$hash" \
  -t "$tag" "$repo" >/dev/null 2>"$repo/.cache/build-prod.log" || { cat "$repo/.cache/build-prod.log" >&2; exit 1; }
echo "built $tag"
