#!/usr/bin/env bash
# local/postgres:15 from this machine's PostgreSQL 15 binaries (docker-here.md): a real server for
# tests that need Postgres inside a Docker network (DBHub reaches it by name). Superuser password
# from POSTGRES_PASSWORD; data in /var/lib/postgresql/data (initialised on first start).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/rootfs-lib.sh"
tag=${1:-local/postgres:15}
pg=/usr/lib/postgresql/15
[ -x "$pg/bin/postgres" ] || { echo "PostgreSQL 15 binaries not found in $pg" >&2; exit 1; }
hash=$(inputs_hash "$0" "$here/rootfs-lib.sh" "$("$pg/bin/postgres" --version)")
if image_current "$tag" "$hash"; then echo "image $tag current"; exit 0; fi
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
base_files "$root"
echo 'postgres:x:999:999:postgres:/var/lib/postgresql:/bin/sh' >> "$root/etc/passwd"
echo 'postgres:x:999:' >> "$root/etc/group"
for b in postgres initdb pg_ctl pg_isready psql; do copy_with_libs "$root" "$pg/bin/$b"; done
cp -a "$pg/lib" "$root$pg/"
find "$pg/lib" -name '*.so' | while read -r so; do copy_with_libs "$root" "$so" >/dev/null 2>&1 || true; done
mkdir -p "$root/usr/share/postgresql" && cp -a /usr/share/postgresql/15 "$root/usr/share/postgresql/"
mkdir -p "$root/usr/share" && cp -a /usr/share/zoneinfo "$root/usr/share/"
copy_with_libs "$root" /usr/bin/id /bin/mkdir /bin/cat
mkdir -p "$root/var/lib/postgresql/data" "$root/var/run/postgresql"
chown -R 999:999 "$root/var/lib/postgresql" "$root/var/run/postgresql"
mkdir -p "$root/usr/local/bin"
cat > "$root/usr/local/bin/docker-entrypoint.sh" <<'SH'
#!/bin/sh
set -e
PGDATA=/var/lib/postgresql/data
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  printf '%s\n' "${POSTGRES_PASSWORD:?POSTGRES_PASSWORD is required}" > /tmp/pwfile
  /usr/lib/postgresql/15/bin/initdb -D "$PGDATA" -U postgres --pwfile=/tmp/pwfile \
    --auth-host=scram-sha-256 --auth-local=trust --encoding=UTF8 --no-locale >/dev/null
  echo "host all all 0.0.0.0/0 scram-sha-256" >> "$PGDATA/pg_hba.conf"
fi
exec /usr/lib/postgresql/15/bin/postgres -D "$PGDATA" -c listen_addresses='*' -c unix_socket_directories=/var/run/postgresql
SH
chmod 755 "$root/usr/local/bin/docker-entrypoint.sh"
tar -C "$root" -c . | docker import -c 'ENV PATH=/usr/lib/postgresql/15/bin:/usr/local/bin:/usr/bin:/bin' \
  -c 'ENV TZ=UTC' -c 'USER postgres' -c 'EXPOSE 5432' -c 'ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]' \
  -c "LABEL io.mcp-reconciler.build-inputs=$hash" - "$tag" >/dev/null
echo "built $tag"
