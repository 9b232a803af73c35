#!/usr/bin/env bash
# Everything the tests and the offline demo need on a fresh Debian 12 machine, idempotent: the Debian
# packages (scripts/system-packages.sh, listed with their reasons in scripts/README.md), the Docker engine
# started, npm packages, the LiteLLM 1.77.3 venv, the build, and the local images that stand in for
# upstream ones. Needs root for apt-get (once). The DB tests make their own
# throwaway Postgres clusters; nothing here starts or configures the machine's own.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
mkdir -p .cache
log() { printf '[setup] %s\n' "$*"; }
t0=$(date +%s)

# Debian packages: docker.io, systemd, postgresql-15, python3-venv, ... (each with its reason in the script),
# and Node.js >= 20.18 with npm when the machine has none (Debian 12 ships 18).
bash scripts/system-packages.sh
hash -r

# The Docker engine: started in the background when it does not answer (apt does not start it here).
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
bash scripts/images/build-package-bases.sh   # local bases of build:/package: servers (ADR 0023), after node22
bash scripts/images/build-prod.sh
bash scripts/images/build-postgres.sh
bash scripts/images/build-dbhub.sh
bash scripts/images/build-debian-systemd.sh   # systemd as PID 1 (systemd-boot.test.ts), ~4 min once
bash scripts/images/build-supergateway.sh   # baseline for npm run bench only
log "ready in $(( $(date +%s) - t0 )) s"
