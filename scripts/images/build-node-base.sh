#!/usr/bin/env bash
# local/node-base:20 from this machine's node binary (docker-here.md: ~1 s, ~105 MB).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/rootfs-lib.sh"
tag=${1:-local/node-base:20}
node_bin=$(readlink -f "$(command -v node)")
hash=$(inputs_hash "$0" "$here/rootfs-lib.sh" "$(node --version)" "$node_bin")
if image_current "$tag" "$hash"; then echo "image $tag current"; exit 0; fi
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
base_files "$root"
mkdir -p "$root/usr/local/bin"
copy_with_libs "$root" "$node_bin"
cp -L "$(command -v node)" "$root/usr/local/bin/node"
tar -C "$root" -c . | docker import \
  -c 'ENV PATH=/usr/local/bin:/usr/bin:/bin' -c 'WORKDIR /app' \
  -c "LABEL io.mcp-reconciler.build-inputs=$hash" - "$tag" >/dev/null
echo "built $tag"
