#!/usr/bin/env bash
# Local base images for `package:` servers and `build:` Dockerfiles that take NODE_BASE / PYTHON_BASE
# (ADR 0023), so tests never pull node:22-slim or python:3.12-slim:
#   local/node-pkg:22     local/node-build:22 (Node 22 + npm 10, scripts/images/build-node22.sh) with
#                         NODE_EXTRA_CA_CERTS pointing at this machine's CA bundle (the npm registry here
#                         is reached through a custom CA)
#   local/python-pkg:3.11 this machine's Python tree (with ensurepip, so `python3 -m venv` has pip) and
#                         PIP_CERT set to the same bundle
# Both keep what the generated Dockerfiles need: /bin/sh, npm or python3 -m venv, a user 1000.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/rootfs-lib.sh"
node_tag=${NODE_TAG:-local/node-pkg:22}
py_tag=${PYTHON_TAG:-local/python-pkg:3.11}
ca=/etc/ssl/certs/ca-certificates.crt

docker image inspect local/node-build:22 >/dev/null 2>&1 || bash "$here/build-node22.sh"
node_hash=$(inputs_hash "$0" "$here/rootfs-lib.sh" "$(docker image inspect -f '{{.Id}}' local/node-build:22)")
if image_current "$node_tag" "$node_hash"; then echo "image $node_tag current"; else
  ctx=$(mktemp -d)
  printf 'FROM local/node-build:22\nENV NODE_EXTRA_CA_CERTS=%s\n' "$ca" > "$ctx/Dockerfile"
  DOCKER_BUILDKIT=0 docker build -q --label "io.mcp-reconciler.build-inputs=$node_hash" -t "$node_tag" "$ctx" >/dev/null
  rm -rf "$ctx"
  echo "built $node_tag"
fi

py=$(command -v python3)
py_real=$(python3 -c 'import sys; print(sys.executable)')
prefix=$(python3 -c 'import sys; print(sys.base_prefix)')
pyver=$(python3 -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
py_hash=$(inputs_hash "$0" "$here/rootfs-lib.sh" "$(python3 --version)" "$prefix" "$py")
if image_current "$py_tag" "$py_hash"; then echo "image $py_tag current"; exit 0; fi
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
base_files "$root"
mkdir -p "$root$prefix/bin" "$root$prefix/lib"
copy_with_libs "$root" "$(readlink -f "$prefix/bin/python$pyver")"
cp -L "$prefix/bin/python$pyver" "$root$prefix/bin/python$pyver"
ln -sf "python$pyver" "$root$prefix/bin/python3"
ln -sf "python$pyver" "$root$prefix/bin/python"
cp -a "$prefix"/lib/libpython*.so* "$root$prefix/lib/" 2>/dev/null || true
# The standard library with ensurepip's bundled pip wheel; without site-packages (a clean interpreter).
tar -C "$prefix/lib" -c --exclude="python$pyver/site-packages" --exclude="python$pyver/test" \
  --exclude="python$pyver/idlelib" --exclude="python$pyver/tkinter" --exclude='__pycache__' \
  "python$pyver" | tar -C "$root$prefix/lib" -x
mkdir -p "$root$prefix/lib/python$pyver/site-packages"
find "$root$prefix/lib/python$pyver/lib-dynload" -name '*.so*' -type f > "$root/.solist"
while read -r so; do
  { ldd "$so" 2>/dev/null | grep -oE '=> /[^ ]+' || true; } | cut -c4- | while read -r lib; do
    case "$lib" in "$root"*) continue ;; esac
    if [ -e "$lib" ] && [ ! -e "$root$lib" ]; then mkdir -p "$root$(dirname "$lib")"; cp -L "$lib" "$root$lib"; fi
  done
done < "$root/.solist"
rm "$root/.solist"
# What manylinux wheels (pydantic-core, cryptography, ...) expect of the system, as python:3.12-slim has it.
for lib in libc.so.6 libm.so.6 libdl.so.2 libpthread.so.0 librt.so.1 libutil.so.1 libresolv.so.2 libgcc_s.so.1 \
  libstdc++.so.6 libz.so.1 libbz2.so.1.0 liblzma.so.5 libffi.so.8 libssl.so.3 libcrypto.so.3 libexpat.so.1 libuuid.so.1 \
  libsqlite3.so.0 libnss_dns.so.2 libnss_files.so.2; do
  f=/lib/x86_64-linux-gnu/$lib
  if [ -e "$f" ] && [ ! -e "$root$f" ]; then mkdir -p "$root/lib/x86_64-linux-gnu"; cp -L "$f" "$root$f"; fi
done
mkdir -p "$root/usr/local/bin"
ln -sf "$prefix/bin/python$pyver" "$root/usr/local/bin/python3"
ln -sf "$prefix/bin/python$pyver" "$root/usr/local/bin/python"
tar -C "$root" -c . | docker import \
  -c 'ENV PATH=/usr/local/bin:/usr/bin:/bin' -c "ENV PIP_CERT=$ca" -c 'ENV PIP_DISABLE_PIP_VERSION_CHECK=1' \
  -c 'WORKDIR /app' -c "LABEL io.mcp-reconciler.build-inputs=$py_hash" - "$py_tag" >/dev/null
echo "built $py_tag (${py_real})"
