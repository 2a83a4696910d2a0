#!/bin/bash
# The official image's start-up, reduced to what the project uses: on an empty data directory,
# initdb with POSTGRES_USER/POSTGRES_PASSWORD, then /docker-entrypoint-initdb.d/*.sql and *.sh
# against a temporary server that listens on the socket only; then the real server on TCP.
set -euo pipefail
user=${POSTGRES_USER:-postgres}
if [[ ! -s $PGDATA/PG_VERSION ]]; then
  if [[ -z ${POSTGRES_PASSWORD:-} ]]; then
    echo 'POSTGRES_PASSWORD is not set (the official image refuses to start without it too)' >&2
    exit 1
  fi
  pwfile=$(mktemp)
  printf '%s\n' "$POSTGRES_PASSWORD" >"$pwfile"
  initdb --username="$user" --pwfile="$pwfile" --auth-local=trust --auth-host=scram-sha-256 \
    --encoding=UTF8 >/dev/null
  rm -f "$pwfile"
  echo "host all all all scram-sha-256" >>"$PGDATA/pg_hba.conf"
  pg_ctl -D "$PGDATA" -o "-c listen_addresses='' -c unix_socket_directories=/var/run/postgresql" -w start
  for file in /docker-entrypoint-initdb.d/*; do
    case $file in
      *.sql) echo "running $file"; psql -v ON_ERROR_STOP=1 -U "$user" -d postgres -f "$file" ;;
      *.sh) echo "running $file"; . "$file" ;;
      *) ;;
    esac
  done
  pg_ctl -D "$PGDATA" -m fast -w stop
  echo 'database initialised; starting'
fi
if [[ ${1:-} == postgres ]]; then
  shift
  exec postgres -c listen_addresses='*' -c unix_socket_directories=/var/run/postgresql "$@"
fi
exec "$@"
