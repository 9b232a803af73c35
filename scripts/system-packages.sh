#!/usr/bin/env bash
# Every Debian 12 (bookworm) package the tests, the offline demo and the local image builds need, and why
# (scripts/README.md has the same list). Run by scripts/setup.sh; idempotent.
#   system-packages.sh           install the packages that are missing (apt-get, as root)
#   system-packages.sh --list    print "package: why"
#   system-packages.sh --check   install nothing; check every program the tests and scripts call is there
# Not installed here: Node.js >= 20.18 with npm (Debian 12 ships Node 18), the one prerequisite (README).
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
)

# Programs and files the tests and scripts call (beyond Debian's essential set: bash, dash, tar, coreutils,
# sed, grep, findutils, util-linux, libc-bin for ldd and getent).
check() {
  local bad=0 p
  for p in dockerd docker systemd-analyze python3 pgrep ldd getent tar sha256sum node npm \
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
if [ ${#missing[@]} -gt 0 ]; then
  echo "[setup] installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq "${missing[@]}" >/dev/null
fi
