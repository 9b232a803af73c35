#!/usr/bin/env bash
# Offline demo: the real stack on this machine with locally built images — LiteLLM 1.77.3 as the
# managed mcp-litellm container, the edge, mcp-everything (streamable HTTP) and mcp-memory (stdio,
# bridged) — then the daemon in the foreground.
# State lives in .demo/ (settings, secrets 0600, desired-state). Ctrl-C stops the daemon; the
# containers keep running (that is the point). `bash scripts/demo.sh down` removes them.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
demo="$repo/.demo"
port=${DEMO_PORT:-4000}
cli() { node "$repo/dist/src/main.js" "$@" --config "$demo/settings.yaml"; }

if [ "${1:-}" = "down" ]; then
  ids=$(docker ps -aq --filter label=io.mcp-reconciler.instance=demo)
  [ -n "$ids" ] && docker rm -f $ids >/dev/null
  # mcp-demo-net and one network per server (ADR 0007), all labelled with the demo instance.
  nets=$(docker network ls -q --filter label=io.mcp-reconciler.instance=demo)
  [ -n "$nets" ] && docker network rm $nets >/dev/null
  echo "demo stack removed (.demo/ and the data volumes kept)"
  exit 0
fi

bash scripts/setup.sh
mkdir -p "$demo/secrets" "$demo/projects/desired-state"
chmod 700 "$demo/secrets"
if [ ! -f "$demo/secrets/mcp-litellm.env" ]; then
  (umask 077; printf 'LITELLM_MASTER_KEY=sk-demo-%s\n' "$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')" > "$demo/secrets/mcp-litellm.env")
fi
cp desired-state/mcp-everything.yaml desired-state/mcp-memory.yaml "$demo/projects/desired-state/"
cat > "$demo/settings.yaml" <<YAML
# Demo settings: same layout as production, under .demo/, with local images instead of upstream ones.
projectsRoot: $demo/projects
secretsDir: $demo/secrets
network: mcp-demo-net
instance: demo
gateway:
  hostIp: 127.0.0.1
  hostPort: $port
imageOverrides:
  mcp/everything:latest: local/mcp-everything:test
  mcp/memory:latest: local/mcp-memory:test
  ghcr.io/berriai/litellm:v1.77.3-stable: local/litellm:1.77.3
  mcp-reconciler:0.1.0: local/mcp-reconciler:prod
YAML

echo "== apply"
cli apply --once || true
echo "== status"
for _ in $(seq 1 60); do cli status >/dev/null 2>&1 && break; sleep 0.5; done
cli status || true
cat <<MSG

MCP endpoint: http://127.0.0.1:$port/mcp/   (on the real server: http://linuxserver.lan:4000/mcp/)
Try:          node dist/src/main.js status --config .demo/settings.yaml
Master key:   in .demo/secrets/mcp-litellm.env (mode 600), send it as  x-litellm-api-key: Bearer <key>
Add a server: drop a file into .demo/projects/desired-state/ — the daemon below picks it up.

== daemon (Ctrl-C stops it; containers keep running; 'bash scripts/demo.sh down' removes them)
MSG
exec node "$repo/dist/src/main.js" run --config "$demo/settings.yaml"
