#!/usr/bin/env bash
# Starts a throw-away PostgreSQL on 127.0.0.1:${PGPORT:-5432} for the server test suite and prints its URL.
# Installs Debian's postgresql package first when no server binaries are present.
set -euo pipefail
port="${PGPORT:-5432}"
url="postgresql://postgres@127.0.0.1:${port}/postgres"
if pg_isready -q -h 127.0.0.1 -p "$port" 2>/dev/null; then echo "$url"; exit 0; fi

bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq postgresql >&2
  bindir=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
fi

data="${PGDATA_DIR:-/tmp/portal-pg-$port}"
run_as=()
if [ "$(id -u)" = 0 ]; then run_as=(runuser -u postgres --); fi
if [ ! -s "$data/PG_VERSION" ]; then
  mkdir -p "$data"
  [ "$(id -u)" = 0 ] && chown postgres "$data"
  "${run_as[@]}" "$bindir/initdb" -D "$data" -U postgres --auth=trust -E UTF8 >&2
fi
"${run_as[@]}" "$bindir/pg_ctl" -D "$data" -l "$data/server.log" -w \
  -o "-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories=/tmp -c fsync=off -c max_connections=300" start >&2
echo "$url"
