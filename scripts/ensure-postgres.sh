#!/usr/bin/env bash
# Makes sure a local PostgreSQL answers on 127.0.0.1:5432 with a `test` database (idempotent).
# Installs Debian's postgresql package only when none is present.
set -euo pipefail

if ! command -v pg_ctlcluster >/dev/null 2>&1; then
  echo "installing PostgreSQL from Debian packages"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq postgresql >/dev/null
fi

if ! pg_isready -h 127.0.0.1 -p 5432 -q; then
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  echo "starting PostgreSQL ${version}/main"
  pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
fi

for _ in $(seq 1 60); do
  pg_isready -h 127.0.0.1 -p 5432 -q && break
  sleep 0.5
done
pg_isready -h 127.0.0.1 -p 5432 || { echo "PostgreSQL did not come up on 127.0.0.1:5432" >&2; exit 1; }

psql_admin() { psql -h 127.0.0.1 -U postgres -d postgres -v ON_ERROR_STOP=1 -qtAc "$1" 2>/dev/null || su postgres -c "psql -d postgres -v ON_ERROR_STOP=1 -qtAc \"$1\""; }
# The suite's files run in parallel and the multi-host scenarios keep a cut-off host's sessions
# open until TCP gives up on them: 100 connections (Debian's default) leaves too little headroom.
if [ "$(psql_admin "show max_connections")" -lt 200 ]; then
  echo "raising max_connections to 200 (restarts PostgreSQL)"
  psql_admin "alter system set max_connections = 200"
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  pg_ctlcluster --skip-systemctl-redirect "$version" main restart
  for _ in $(seq 1 60); do
    pg_isready -h 127.0.0.1 -p 5432 -q && break
    sleep 0.5
  done
fi

if [ "$(psql_admin "select 1 from pg_database where datname = 'test'")" != "1" ]; then
  psql_admin "create database test"
fi
echo "PostgreSQL ready: $(psql -h 127.0.0.1 -U postgres -d test -qtAc 'show server_version')"
