#!/usr/bin/env bash
# Which RabbitMQ and Postgres `make setup`, `make up`, `make test` and `make demo` use, and
# containers for them when there are none (docs/docker.md, "RabbitMQ and Postgres only").
#
#   scripts/servers.sh ensure     choose the servers and say which, first thing:
#                                 - the containers recorded in .run/containers.env, when an
#                                   earlier target started them (started again if stopped);
#                                 - else local servers, when both answer on the configured
#                                   addresses (RABBITMQ_URL, POSTGRES_ADMIN_URL; defaults
#                                   127.0.0.1:5672 and 127.0.0.1:5432) and USE_CONTAINERS is
#                                   not 1: nothing is started, nothing changes;
#                                 - else only the compose file's `rabbitmq` and `postgres`
#                                   services (a Docker engine is started first when none
#                                   answers, on Debian as root; official images, or stand-ins
#                                   where they cannot be pulled), on free host ports, waited
#                                   for until healthy, and recorded in .run/containers.env.
#   scripts/servers.sh run CMD... CMD with the recorded containers' addresses in its
#                                 environment (over variables already set); with local
#                                 servers (nothing recorded) CMD runs unchanged
#   scripts/servers.sh stop       stop and remove the recorded containers (and a Docker
#                                 engine that `ensure` started), keep their named volumes,
#                                 forget the record (`make down`)
#   scripts/servers.sh clean      offer to remove those volumes (`make clean`): asks on a
#                                 terminal; never asks when CI=true or without a terminal;
#                                 REMOVE_VOLUMES=1 removes them, REMOVE_VOLUMES=0 keeps them
#   scripts/servers.sh status     what is recorded, and whether it runs
#
# USE_CONTAINERS=1 forces containers; USE_CONTAINERS=0 forces the local servers (ignores a
# record). SERVERS_PROJECT names the compose project (amr-servers): its containers and
# volumes are amr-servers_*. RABBITMQ_PORT, POSTGRES_PORT, RABBITMQ_MANAGEMENT_PORT choose
# the host ports; when unset, 5672, 5432 and 15672, or the next free port above each (with
# USE_CONTAINERS=1, or where RabbitMQ or Postgres is installed locally, from 5673, 5433 and
# 15673: the standard ports stay the local servers', even while one is stopped).
# Bash 3.2 compatible (macOS).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/docker/lib.sh
log() { echo "[servers] $*"; }
die() {
  echo "[servers] error: $*" >&2
  exit 1
}

readonly STATE=.run/containers.env
# Every service with a database (a Prisma schema); one made by `npm run new-service` too.
# shellcheck disable=SC2207 # one word per service name
readonly SERVICES=($(node scripts/prisma.mjs list))
readonly HEALTHY_TIMEOUT_S=${SERVERS_HEALTHY_TIMEOUT_S:-180}
PROJECT=${SERVERS_PROJECT:-amr-servers}
RABBITMQ_USER=${RABBITMQ_USER:-app}
RABBITMQ_PASSWORD=${RABBITMQ_PASSWORD:-app}
POSTGRES_PASSWORD=${POSTGRES_PASSWORD:-postgres}

upper() { printf '%s' "$1" | tr '[:lower:]' '[:upper:]'; }

compose() { $COMPOSE -p "$PROJECT" -f docker-compose.yml "$@"; }

# host_port URL DEFAULT_PORT: "host port" of a URL (no user info in the output).
host_port() {
  local rest=${1#*://} port=$2 host
  rest=${rest%%/*}
  rest=${rest##*@}
  host=${rest%:*}
  if [[ $rest == *:* ]]; then port=${rest##*:}; fi
  [[ $host == localhost ]] && host=127.0.0.1
  echo "$host $port"
}

answers() { # answers HOST PORT
  timeout 3 bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null
}

# Reads the record into this shell (only the variables the record names).
load_state() {
  [[ -f $STATE ]] || return 1
  set -a
  # shellcheck disable=SC1090
  source "$STATE"
  set +a
  PROJECT=$SERVERS_PROJECT
}

container_of() { compose ps -q "$1" 2>/dev/null; }

health_of() { # running+healthy, starting, unhealthy, exited, missing
  local id
  id=$(container_of "$1")
  [[ -n $id ]] || {
    echo missing
    return
  }
  $DOCKER inspect -f '{{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}' "$id" 2>/dev/null |
    awk '{ print ($1 == "running") ? $2 : $1 }'
}

wait_healthy() {
  local deadline=$((SECONDS + HEALTHY_TIMEOUT_S)) service state pending
  while :; do
    pending=
    for service in rabbitmq postgres; do
      state=$(health_of "$service")
      case $state in
        healthy) ;;
        unhealthy | exited | dead | missing)
          compose logs --no-color --tail=30 "$service" >&2 || true
          die "the $service container is $state (logs above; '$COMPOSE -p $PROJECT logs $service')"
          ;;
        *) pending="$pending $service" ;;
      esac
    done
    [[ -z $pending ]] && return 0
    if ((SECONDS >= deadline)); then
      compose logs --no-color --tail=30 >&2 || true
      die "not healthy within ${HEALTHY_TIMEOUT_S}s:$pending"
    fi
    sleep 1
  done
}

# pick_port VAR PREFERRED: VAR when set (the record's, or the user's), else PREFERRED when
# free, else the next free port above it.
pick_port() {
  local var=$1 port=$2 wanted=$2
  if [[ -n ${!var:-} ]]; then return 0; fi
  while port_taken "$port"; do port=$((port + 1)); done
  if ((port != wanted)); then log "port $wanted is taken on 127.0.0.1: $var=$port"; fi
  export "$var=$port"
}

write_state() {
  local rabbit="amqp://$RABBITMQ_USER:$RABBITMQ_PASSWORD@127.0.0.1:$RABBITMQ_PORT"
  local management="http://$RABBITMQ_USER:$RABBITMQ_PASSWORD@127.0.0.1:$RABBITMQ_MANAGEMENT_PORT"
  local admin="postgresql://postgres:$POSTGRES_PASSWORD@127.0.0.1:$POSTGRES_PORT/postgres"
  local service name tmp
  mkdir -p .run
  tmp=$STATE.tmp
  {
    echo "# Written by scripts/servers.sh: the RabbitMQ and Postgres containers that make"
    echo "# setup/up/test/demo use until 'make down' stops them. Local-only credentials."
    echo "SERVERS_PROJECT=$PROJECT"
    echo "ENGINE_STARTED=$ENGINE_STARTED"
    echo "RABBITMQ_IMAGE=$RABBITMQ_IMAGE"
    echo "POSTGRES_IMAGE=$POSTGRES_IMAGE"
    echo "RABBITMQ_PORT=$RABBITMQ_PORT"
    echo "RABBITMQ_MANAGEMENT_PORT=$RABBITMQ_MANAGEMENT_PORT"
    echo "POSTGRES_PORT=$POSTGRES_PORT"
    echo "RABBITMQ_URL=$rabbit"
    echo "RABBITMQ_MANAGEMENT_URL=$management"
    echo "POSTGRES_ADMIN_URL=$admin"
    for service in "${SERVICES[@]}"; do
      name=$(upper "$service")
      echo "${name}_DATABASE_URL=postgresql://${service}_service:${service}-local-only@127.0.0.1:$POSTGRES_PORT/$service"
      echo "${name}_MIGRATE_DATABASE_URL=postgresql://${service}_owner:${service}-owner-local-only@127.0.0.1:$POSTGRES_PORT/$service"
    done
    echo "DEMO_RABBITMQ_URL=$rabbit"
    echo "DEMO_RABBITMQ_MANAGEMENT_URL=$management"
    echo "DEMO_POSTGRES_URL=$admin"
    echo "TEST_RABBITMQ_URL=$rabbit"
    echo "TEST_RABBITMQ_MANAGEMENT_URL=$management"
    echo "TEST_POSTGRES_URL=$admin"
  } >"$tmp"
  mv "$tmp" "$STATE"
}

banner_containers() { # banner_containers HOW
  log "using RabbitMQ and Postgres in containers ($1):"
  log "  RabbitMQ  amqp://127.0.0.1:$RABBITMQ_PORT (user $RABBITMQ_USER), management http://127.0.0.1:$RABBITMQ_MANAGEMENT_PORT  [$RABBITMQ_IMAGE]"
  log "  Postgres  postgresql://postgres@127.0.0.1:$POSTGRES_PORT  [$POSTGRES_IMAGE]"
  log "  compose project $PROJECT, recorded in $STATE; 'make down' stops them (data volumes stay)"
}

start_containers() { # start_containers REASON
  local reason=$1 started=$SECONDS
  log "starting RabbitMQ and Postgres in containers: $reason"
  ENGINE_STARTED=${ENGINE_STARTED:-0}
  if ! engine_answers; then
    if ! command -v dockerd >/dev/null && [[ $(id -u) -ne 0 ]]; then
      die "$reason, and no Docker engine answers ('$DOCKER info'). Install and start Docker, or start RabbitMQ and Postgres locally (README.md)"
    fi
    ENGINE_STARTED=1
    ensure_engine
  fi
  COMPOSE=$(compose_cmd)
  scripts/docker/base-images.sh --servers-only >&2
  set -a
  source .run/server-images.env
  set +a
  # With USE_CONTAINERS=1, or where RabbitMQ or Postgres is installed on the machine, local
  # servers run or may run again soon (a test stops the local broker and starts it again):
  # the standard ports stay theirs, even while free.
  local rabbit_offset=0 postgres_offset=0
  if [[ ${USE_CONTAINERS:-} == 1 ]] || command -v rabbitmq-server >/dev/null || [[ -d /usr/lib/rabbitmq ]]; then
    rabbit_offset=1
  fi
  if [[ ${USE_CONTAINERS:-} == 1 ]] || command -v pg_ctlcluster >/dev/null || [[ -d /usr/lib/postgresql ]]; then
    postgres_offset=1
  fi
  pick_port RABBITMQ_PORT $((5672 + rabbit_offset))
  pick_port POSTGRES_PORT $((5432 + postgres_offset))
  pick_port RABBITMQ_MANAGEMENT_PORT $((15672 + rabbit_offset))
  export RABBITMQ_PORT POSTGRES_PORT RABBITMQ_MANAGEMENT_PORT RABBITMQ_USER RABBITMQ_PASSWORD POSTGRES_PASSWORD
  # Recorded before `up`: a failed start is still stopped by `make down`.
  write_state
  if ! compose up -d --no-build rabbitmq postgres >&2; then
    die "'$COMPOSE -p $PROJECT up rabbitmq postgres' failed (a host port taken? RABBITMQ_PORT=$RABBITMQ_PORT, POSTGRES_PORT=$POSTGRES_PORT, RABBITMQ_MANAGEMENT_PORT=$RABBITMQ_MANAGEMENT_PORT); 'make down' cleans up"
  fi
  wait_healthy
  banner_containers "$2 in $((SECONDS - started))s"
}

cmd_ensure() {
  local rabbit_url=${RABBITMQ_URL:-amqp://guest:guest@127.0.0.1:5672}
  local postgres_url=${POSTGRES_ADMIN_URL:-postgresql://postgres@127.0.0.1:5432/postgres}
  if [[ ${USE_CONTAINERS:-} == 0 ]]; then
    [[ -f $STATE ]] && log "USE_CONTAINERS=0: ignoring the containers recorded in $STATE"
    log "using the local servers (USE_CONTAINERS=0): RabbitMQ at $(host_port "$rabbit_url" 5672 | tr ' ' :), Postgres at $(host_port "$postgres_url" 5432 | tr ' ' :)"
    return 0
  fi
  if load_state; then
    COMPOSE=$(compose_cmd)
    if engine_answers && [[ $(health_of rabbitmq) == healthy && $(health_of postgres) == healthy ]]; then
      banner_containers "started earlier, running"
      return 0
    fi
    if ! engine_answers && [[ $ENGINE_STARTED != 1 ]]; then
      die "the containers recorded in $STATE need a Docker engine and none answers: start it, or 'make down' to forget them"
    fi
    start_containers "the containers recorded in $STATE are not running" "started again"
    return 0
  fi
  local rabbit postgres
  rabbit=$(host_port "$rabbit_url" 5672)
  postgres=$(host_port "$postgres_url" 5432)
  if [[ ${USE_CONTAINERS:-} == 1 ]]; then
    start_containers "USE_CONTAINERS=1" "started now"
    return 0
  fi
  # shellcheck disable=SC2086
  if answers $rabbit && answers $postgres; then
    log "using the local servers: RabbitMQ at ${rabbit/ /:}, Postgres at ${postgres/ /:} (already running; USE_CONTAINERS=1 starts containers instead)"
    return 0
  fi
  local missing=
  # shellcheck disable=SC2086
  answers $rabbit || missing="RabbitMQ on ${rabbit/ /:}"
  # shellcheck disable=SC2086
  answers $postgres || missing="${missing:+$missing and }Postgres on ${postgres/ /:}"
  start_containers "nothing answers as $missing" "started now"
}

cmd_run() {
  if [[ -f $STATE && ${USE_CONTAINERS:-} != 0 ]]; then
    local line name
    while IFS= read -r line; do
      [[ $line =~ ^([A-Z_][A-Z0-9_]*)=(.*)$ ]] || continue
      name=${BASH_REMATCH[1]}
      # The record wins over the environment: a RABBITMQ_URL that did not answer is why
      # the containers run. (.ci/run's TEST_* URLs apply while nothing is recorded.)
      export "$name=${BASH_REMATCH[2]}"
    done <"$STATE"
  fi
  exec "$@"
}

cmd_stop() {
  if ! load_state; then
    log "no containers recorded in $STATE: nothing to stop"
    return 0
  fi
  COMPOSE=$(compose_cmd)
  if engine_answers; then
    log "stopping the RabbitMQ and Postgres containers of project $PROJECT (volumes stay; 'make clean' offers to remove them)"
    compose down --timeout 20 >&2
  else
    log "no Docker engine answers: the containers of project $PROJECT are not running"
  fi
  if [[ $ENGINE_STARTED == 1 ]]; then stop_engine_we_started; fi
  rm -f "$STATE"
}

cmd_clean() {
  if [[ -f $STATE ]]; then die "the containers in $STATE may still run: 'make down' first"; fi
  if ! engine_answers; then
    log "no Docker engine answers: the volumes of project $PROJECT (if any) stay"
    return 0
  fi
  local volumes answer
  volumes=$($DOCKER volume ls -q --filter "label=com.docker.compose.project=$PROJECT")
  [[ -n $volumes ]] || return 0
  volumes=$(echo $volumes)
  case ${REMOVE_VOLUMES:-} in
    1 | true | yes) answer=y ;;
    0 | false | no) answer=n ;;
    *)
      if [[ ${CI:-} == true || ! -t 0 ]]; then
        log "kept the data volumes $volumes (REMOVE_VOLUMES=1 make clean removes them)"
        return 0
      fi
      read -r -p "[servers] remove the data volumes $volumes (every message and row in them)? [y/N] " answer || answer=n
      ;;
  esac
  if [[ $answer == [yY]* ]]; then
    # shellcheck disable=SC2086
    $DOCKER volume rm $volumes >/dev/null
    log "removed the volumes $volumes"
  else
    log "kept the volumes $volumes"
  fi
}

cmd_status() {
  if ! load_state; then
    log "no containers recorded: the targets use the local servers when they answer"
    return 0
  fi
  COMPOSE=$(compose_cmd)
  if engine_answers; then
    log "recorded in $STATE: rabbitmq $(health_of rabbitmq), postgres $(health_of postgres)"
  else
    log "recorded in $STATE, but no Docker engine answers"
  fi
}

case ${1:-} in
  ensure) cmd_ensure ;;
  run)
    shift
    [[ $# -gt 0 ]] || die "usage: scripts/servers.sh run COMMAND..."
    cmd_run "$@"
    ;;
  stop) cmd_stop ;;
  clean) cmd_clean ;;
  status) cmd_status ;;
  *)
    echo "usage: scripts/servers.sh ensure|run COMMAND...|stop|clean|status" >&2
    exit 2
    ;;
esac
