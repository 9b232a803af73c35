#!/usr/bin/env bash
# Everything the tests and the offline demo need on a fresh Debian machine, idempotent:
# Docker engine (installed and started), Postgres (started if installed and down), npm packages,
# the LiteLLM 1.77.3 venv, the build, and the local images that stand in for upstream ones.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
mkdir -p .cache
log() { printf '[setup] %s\n' "$*"; }
t0=$(date +%s)

# Docker engine: only the client is preinstalled on these machines.
if ! command -v dockerd >/dev/null 2>&1; then
  log "installing docker.io"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq docker.io >/dev/null
fi
if ! docker info >/dev/null 2>&1; then
  if pgrep -x dockerd >/dev/null 2>&1; then
    log "dockerd is running but not answering yet"
  else
    log "starting dockerd"
    nohup dockerd >"$repo/.cache/dockerd.log" 2>&1 &
  fi
  for _ in $(seq 1 150); do docker info >/dev/null 2>&1 && break; sleep 0.2; done
  docker info >/dev/null 2>&1 || { log "dockerd did not come up; see .cache/dockerd.log"; exit 1; }
fi
log "docker engine $(docker version --format '{{.Server.Version}}')"

# systemd-analyze checks the unit file in the tests (Debian package systemd).
if ! command -v systemd-analyze >/dev/null 2>&1; then
  log "installing systemd (for systemd-analyze verify)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq systemd >/dev/null
fi

# Postgres (used by the database features); start it if it is installed and down.
if command -v pg_lsclusters >/dev/null 2>&1; then
  pg_lsclusters --no-header 2>/dev/null | while read -r ver name _port status _rest; do
    if [ "$status" != "online" ]; then
      log "starting postgres $ver/$name"
      pg_ctlcluster --skip-systemctl-redirect "$ver" "$name" start || true
    fi
  done
fi

# Node packages and the build.
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  log "npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi
npm run -s build

# The real LiteLLM 1.77.3 and the local images.
bash scripts/setup-litellm-venv.sh
bash scripts/images/build-node-base.sh
bash scripts/images/build-npm-server.sh @modelcontextprotocol/server-everything 2026.8.31 local/mcp-everything:test mcp-everything
bash scripts/images/build-npm-server.sh @modelcontextprotocol/server-memory 2026.8.31 local/mcp-memory:test mcp-memory
bash scripts/images/build-litellm.sh
bash scripts/images/build-node22.sh
bash scripts/images/build-prod.sh
bash scripts/images/build-postgres.sh
bash scripts/images/build-dbhub.sh
bash scripts/images/build-supergateway.sh   # baseline for npm run bench only
log "ready in $(( $(date +%s) - t0 )) s"
