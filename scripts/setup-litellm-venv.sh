#!/usr/bin/env bash
# The real LiteLLM 1.77.3 proxy in a venv (cached in .cache/litellm-venv). See scripts/litellm/README.md.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
venv=${LITELLM_VENV:-$repo/.cache/litellm-venv}
req="$repo/scripts/litellm/requirements-1.77.3.txt"
stamp="$venv/.mcp-reconciler-stamp"
want="litellm==1.77.3 mcp==1.10.1 prisma==0.11.0 $(sha256sum "$req" | cut -c1-16)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then echo "LiteLLM venv present ($venv)"; exit 0; fi
rm -rf "$venv"
python3 -m venv "$venv"
constraints=$(mktemp)
trap 'rm -f "$constraints"' EXIT
sed -E -e 's/#.*//' -e 's/^([A-Za-z0-9_.-]+)\[[^]]*\]/\1/' -e 's/[[:space:]]+$//' "$req" \
  | grep -vE '^(fastapi|starlette)==' | grep -v '^$' > "$constraints"
# prisma: the image has it (requirements.txt "for db"); LiteLLM imports prisma.errors when a database
# call fails, e.g. key auth of an unknown virtual key (the engines are never used: tests run a double).
"$venv/bin/pip" install -q --disable-pip-version-check 'litellm[proxy]==1.77.3' 'mcp==1.10.1' 'prisma==0.11.0' -c "$constraints"
"$venv/bin/pip" install -q --disable-pip-version-check --no-deps 'fastapi==0.116.1' 'starlette==0.47.2'
"$venv/bin/python" - <<'PY'
from importlib.metadata import version
want = {"litellm": "1.77.3", "mcp": "1.10.1", "fastapi": "0.116.1", "starlette": "0.47.2", "uvicorn": "0.29.0", "prisma": "0.11.0"}
got = {k: version(k) for k in want}
assert got == want, f"LiteLLM venv does not match the 1.77.3 image: {got}"
print("LiteLLM venv:", ", ".join(f"{k} {v}" for k, v in got.items()))
PY
echo "$want" > "$stamp"
