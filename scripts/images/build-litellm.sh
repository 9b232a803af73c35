#!/usr/bin/env bash
# local/litellm:1.77.3 — the real LiteLLM 1.77.3 proxy, packed from this machine's Python and
# the venv made by scripts/setup-litellm-venv.sh. It mimics the upstream image's interface:
# ENTRYPOINT runs `litellm`, CMD is `--port 4000`, so the reconciler passes the same arguments
# to this image and to ghcr.io/berriai/litellm:v1.77.3-stable.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
. "$here/rootfs-lib.sh"
tag=${1:-local/litellm:1.77.3}
venv=${LITELLM_VENV:-$repo/.cache/litellm-venv}
[ -x "$venv/bin/python" ] || { echo "no LiteLLM venv at $venv (run scripts/setup-litellm-venv.sh)" >&2; exit 1; }
hash=$(inputs_hash "$0" "$here/rootfs-lib.sh" "$venv/.mcp-reconciler-stamp" "$(readlink -f "$venv/bin/python")")
if image_current "$tag" "$hash"; then echo "image $tag current"; exit 0; fi
py_home=$(sed -n 's/^home = //p' "$venv/pyvenv.cfg")        # e.g. /root/.pyenv/versions/3.11.7/bin
prefix=$(dirname "$py_home")
pyver=$("$venv/bin/python" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
base_files "$root"
# The interpreter and its standard library, at the same absolute path the venv points to.
mkdir -p "$root$prefix/bin" "$root$prefix/lib"
copy_with_libs "$root" "$(readlink -f "$py_home/python$pyver")"
cp -L "$py_home/python$pyver" "$root$prefix/bin/python$pyver"
ln -sf "python$pyver" "$root$prefix/bin/python3"
cp -a "$prefix"/lib/libpython*.so* "$root$prefix/lib/" 2>/dev/null || true
tar -C "$prefix/lib" -c --exclude="python$pyver/site-packages" --exclude="python$pyver/test" \
  --exclude="python$pyver/idlelib" --exclude="python$pyver/tkinter" --exclude='__pycache__' \
  "python$pyver" | tar -C "$root$prefix/lib" -x
mkdir -p "$root$prefix/lib/python$pyver/site-packages"
# The standard library byte-compiled here (the host's caches hold three optimisation levels): the
# container's root is read-only, so without them every LiteLLM start compiles what it imports
# (measured: `import litellm.proxy.proxy_server` 8.4-9.2 s without, 6.9-8.0 s with). Some files of
# the library's own test data do not compile; that is expected.
"$venv/bin/python" -m compileall -q -j 0 -d "$prefix/lib/python$pyver" "$root$prefix/lib/python$pyver" >/dev/null 2>&1 || true
compgen -G "$root$prefix/lib/python$pyver/__pycache__/os.cpython-*.pyc" >/dev/null \
  || { echo "build-litellm.sh: the standard library was not byte-compiled" >&2; exit 1; }
# The venv, moved to /opt/litellm-venv (python -m needs no entry-point shebangs).
mkdir -p "$root/opt"
cp -a "$venv" "$root/opt/litellm-venv"
ln -sf "$prefix/bin/python3" "$root/opt/litellm-venv/bin/python3"
# Shared libraries that compiled modules need.
find "$root$prefix/lib/python$pyver/lib-dynload" "$root/opt/litellm-venv" -name '*.so*' -type f > "$root/.solist"
while read -r so; do
  { ldd "$so" 2>/dev/null | grep -oE '=> /[^ ]+' || true; } | cut -c4- | while read -r lib; do
    case "$lib" in "$root"*) continue ;; esac
    if [ -e "$lib" ] && [ ! -e "$root$lib" ]; then mkdir -p "$root$(dirname "$lib")"; cp -L "$lib" "$root$lib"; fi
  done
done < "$root/.solist"
rm "$root/.solist"
mkdir -p "$root/usr/local/bin"
printf '#!/bin/sh\nexec /opt/litellm-venv/bin/python -m litellm.proxy.proxy_cli "$@"\n' > "$root/usr/local/bin/litellm"
chmod 755 "$root/usr/local/bin/litellm"
tar -C "$root" -c . | docker import \
  -c 'ENV PATH=/opt/litellm-venv/bin:/usr/local/bin:/usr/bin:/bin' \
  -c 'ENV LITELLM_LOCAL_MODEL_COST_MAP=True' \
  -c 'WORKDIR /app' -c 'ENTRYPOINT ["/usr/local/bin/litellm"]' -c 'CMD ["--port", "4000"]' \
  -c "LABEL io.mcp-reconciler.build-inputs=$hash" \
  - "$tag" >/dev/null
echo "built $tag"
