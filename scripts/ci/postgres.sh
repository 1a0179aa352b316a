#!/usr/bin/env bash
# Starts the local PostgreSQL cluster used by the store contract tests (trust auth on
# 127.0.0.1:5432, database `test`, user `postgres`). Idempotent: does nothing if it runs.
set -euo pipefail

if ! command -v pg_ctlcluster >/dev/null 2>&1; then
  apt-get install -y -q postgresql >/dev/null
fi
version="$(ls /etc/postgresql | sort -V | tail -n1)"
hba="/etc/postgresql/$version/main/pg_hba.conf"
# Tests use trust auth on loopback only (a throwaway CI/dev cluster, never a real one).
if ! grep -qE '^host\s+all\s+all\s+127\.0\.0\.1/32\s+trust' "$hba"; then
  sed -i -E 's/^(host\s+all\s+all\s+127\.0\.0\.1\/32\s+)\S+/\1trust/' "$hba"
  grep -qE '^host\s+all\s+all\s+127\.0\.0\.1/32\s+trust' "$hba" || echo 'host all all 127.0.0.1/32 trust' >>"$hba"
  pg_ctlcluster --skip-systemctl-redirect "$version" main reload 2>/dev/null || true
fi

if pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
  echo "postgres: already running"
else
  pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  for _ in $(seq 1 30); do
    pg_isready -h 127.0.0.1 -p 5432 -q && break
    sleep 1
  done
  pg_isready -h 127.0.0.1 -p 5432 -q || { echo "postgres: failed to start" >&2; exit 1; }
  echo "postgres: started cluster $version/main"
fi

# The tests connect as postgres to database `test` without a password.
if ! psql -h 127.0.0.1 -U postgres -d test -tAc 'SELECT 1' >/dev/null 2>&1; then
  su postgres -c "psql -tAc \"SELECT 1 FROM pg_database WHERE datname='test'\"" | grep -q 1 ||
    su postgres -c "createdb test"
fi
psql -h 127.0.0.1 -U postgres -d test -tAc 'SELECT 1' >/dev/null
echo "postgres: ready (postgres@127.0.0.1:5432/test)"
