#!/usr/bin/env bash
# local/dbhub:1.4.0 — @bytebase/dbhub 1.4.0 laid out like bytebase/dbhub (needs Node >= 22.5).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bash "$here/build-node22.sh" >/dev/null
exec bash "$here/build-npm-server.sh" @bytebase/dbhub 1.4.0 local/dbhub:1.4.0 dbhub local/node-base:22
