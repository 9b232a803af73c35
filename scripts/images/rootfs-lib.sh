# Helpers to assemble a minimal root filesystem from this machine's own files
# (no registry can be reached here; see ../shared/facts/docker-here.md).
# Sourced by the build scripts; not run on its own.

# copy_with_libs ROOT FILE... : copy each file (following links) and every shared
# library ldd lists for it into ROOT at the same absolute path.
copy_with_libs() {
  local root=$1; shift
  local f lib
  for f in "$@"; do
    mkdir -p "$root$(dirname "$f")"
    cp -L "$f" "$root$f"
    { ldd "$f" 2>/dev/null | grep -oE '/[^ ]+\.so[^ ]*' || true; } | while read -r lib; do
      if [ -e "$lib" ] && [ ! -e "$root$lib" ]; then
        mkdir -p "$root$(dirname "$lib")"
        cp -L "$lib" "$root$lib"
      fi
    done
  done
}

# base_files ROOT : a shell, env, CA bundle, users (root, node 1000, nobody), /tmp 1777.
base_files() {
  local root=$1
  mkdir -p "$root/bin" "$root/usr/bin" "$root/etc/ssl/certs" "$root/tmp" "$root/app"
  copy_with_libs "$root" /bin/dash /usr/bin/env
  ln -sf dash "$root/bin/sh"
  cp -L /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt"
  printf 'root:x:0:0:root:/root:/bin/sh\nnode:x:1000:1000:node:/home/node:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/sh\n' > "$root/etc/passwd"
  printf 'root:x:0:\nnode:x:1000:\nnogroup:x:65534:\n' > "$root/etc/group"
  printf 'hosts: files dns\n' > "$root/etc/nsswitch.conf"
  chmod 1777 "$root/tmp"
  mkdir -p "$root/root" "$root/home/node" && chown 1000:1000 "$root/home/node"
}

# inputs_hash FILE_OR_TEXT... : short hash of a build's inputs (scripts, versions, stamps).
inputs_hash() {
  local a
  for a in "$@"; do if [ -f "$a" ]; then cat "$a"; else printf '%s' "$a"; fi; done | sha256sum | cut -c1-16
}

# image_current NAME HASH : true when NAME exists and was built from inputs with HASH, so a
# changed script or version rebuilds it and nothing stale left on the machine is trusted.
image_current() {
  [ -z "${REBUILD:-}" ] || return 1
  [ "$(docker image inspect -f '{{ index .Config.Labels "io.mcp-reconciler.build-inputs" }}' "$1" 2>/dev/null)" = "$2" ]
}
