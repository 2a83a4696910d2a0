#!/usr/bin/env bash
# The compose system on this machine, for `make compose-up`, `make compose-down` and
# `make compose-test` (docs/docker.md).
#
#   scripts/docker/compose.sh engine a Docker engine that answers (see `up`), nothing else
#   scripts/docker/compose.sh engine-stop   stop the dockerd that `engine`/`up` started here
#   scripts/docker/compose.sh up     engine (installed and started if none answers, Debian
#                                    as root), base images (official, or stand-ins built
#                                    from Debian's packages when they cannot be pulled), the
#                                    project's images, `up -d`, wait until every service is
#                                    healthy, print the addresses
#   scripts/docker/compose.sh down   stop and remove the containers and network (the data
#                                    volumes stay; `docker compose down -v` drops them)
#   scripts/docker/compose.sh test   a throw-away project (amr-compose-test): up, one order
#                                    per style to COMPLETED through the published ports,
#                                    invoice/shipment/statistics checks, the management UI,
#                                    the demo profile's two-styles scenario; then everything
#                                    torn down (containers, network, volumes) even on failure
#
# Host ports: ORDER_PORT, INVOICING_PORT, SHIPPING_PORT, STATISTICS_PORT, PAYMENT_PORT (3001-3005),
# RABBITMQ_PORT (5672), RABBITMQ_MANAGEMENT_PORT (15672), POSTGRES_PORT (5432). One that is
# unset and taken on this machine is replaced by a free one, and said so. `test` keeps off
# the machine's own servers: RabbitMQ and Postgres go to 5782, 15782 and 5542 or above
# (below the ephemeral range, where outgoing connections would make a bind fail).
# Bash 3.2 compatible (macOS).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."
source scripts/docker/lib.sh

export SERVICE_IMAGE=${SERVICE_IMAGE:-amr-messaging/service:local}
export TOOLS_IMAGE=${TOOLS_IMAGE:-amr-messaging/tools:local}
# The demo container writes its report into the bind-mounted reports folder as this user.
export REPORT_UID=${REPORT_UID:-$(id -u)}
export REPORT_GID=${REPORT_GID:-$(id -g)}
readonly LABEL_FILTER=label=amr.project=async-messaging-reference
readonly HEALTHY_TIMEOUT_S=${HEALTHY_TIMEOUT_S:-240}
readonly BUILD_LOG=.run/docker-build.log

COMPOSE=$(compose_cmd)
compose() { $COMPOSE -f docker-compose.yml "$@"; }

# pick_port VAR PREFERRED: keeps VAR when set; else PREFERRED when free; else the next free
# port above it.
pick_port() {
  local var=$1 port=$2
  if [[ -n ${!var:-} ]]; then
    export "$var=${!var}"
    return 0
  fi
  if port_taken "$port"; then
    local wanted=$port
    while port_taken "$port"; do port=$((port + 1)); done
    log "port $wanted is in use on 127.0.0.1: using $port for $var (set $var to choose)"
  fi
  export "$var=$port"
}

pick_ports() { # pick_ports RABBITMQ POSTGRES MANAGEMENT: the preferred broker/database ports
  pick_port RABBITMQ_PORT "$1"
  pick_port POSTGRES_PORT "$2"
  pick_port RABBITMQ_MANAGEMENT_PORT "$3"
  pick_port ORDER_PORT 3001
  pick_port INVOICING_PORT 3002
  pick_port SHIPPING_PORT 3003
  pick_port STATISTICS_PORT 3004
  pick_port PAYMENT_PORT 3005
}

base_images() {
  scripts/docker/base-images.sh
  set -a
  source .run/docker-images.env
  set +a
}

build_images() {
  local started=$SECONDS target tag
  mkdir -p .run
  : >"$BUILD_LOG"
  for target in service tools; do
    if [[ $target == service ]]; then tag=$SERVICE_IMAGE; else tag=$TOOLS_IMAGE; fi
    log "building $tag (target $target, FROM $NODE_IMAGE; log: $BUILD_LOG)"
    if ! docker_build --progress=plain --build-arg "NODE_IMAGE=$NODE_IMAGE" --target "$target" \
      -t "$tag" . >>"$BUILD_LOG" 2>&1; then
      tail -n 40 "$BUILD_LOG" >&2
      die "the image build failed (target $target); full log in $BUILD_LOG"
    fi
  done
  log "images built in $((SECONDS - started))s: $($DOCKER image ls --format '{{.Repository}}:{{.Tag}} {{.Size}}' "${SERVICE_IMAGE%%:*}" | head -1), $($DOCKER image ls --format '{{.Repository}}:{{.Tag}} {{.Size}}' "${TOOLS_IMAGE%%:*}" | head -1)"
}

show_state() {
  compose ps >&2 || true
  echo "---- last log lines ----" >&2
  compose logs --no-color --tail=25 >&2 || true
}

# Waits until migrate has exited 0 and every long-running container reports healthy.
wait_healthy() {
  local deadline=$((SECONDS + HEALTHY_TIMEOUT_S)) ids id line name state health code pending
  while :; do
    pending=0
    ids=$(compose ps -q)
    [[ -n $ids ]] || die "no containers are running"
    for id in $ids; do
      line=$($DOCKER inspect -f '{{.Name}} {{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}} {{.State.ExitCode}}' "$id")
      read -r name state health code <<<"$line"
      name=${name#/}
      case $name in
        *migrate*)
          if [[ $state == exited && $code != 0 ]]; then
            show_state
            die "$name exited with code $code"
          fi
          [[ $state == exited ]] || pending=$((pending + 1))
          ;;
        *)
          if [[ $health == unhealthy ]]; then
            show_state
            die "$name is unhealthy"
          fi
          [[ $health == healthy ]] || pending=$((pending + 1))
          ;;
      esac
    done
    ((pending == 0)) && break
    if ((SECONDS >= deadline)); then
      show_state
      die "not every service was healthy within ${HEALTHY_TIMEOUT_S}s"
    fi
    sleep 2
  done
}

print_addresses() {
  cat <<EOF

All healthy (compose project ${COMPOSE_PROJECT_NAME:-$(basename "$PWD")}, $COMPOSE):
  order        http://127.0.0.1:$ORDER_PORT
  invoicing    http://127.0.0.1:$INVOICING_PORT
  shipping     http://127.0.0.1:$SHIPPING_PORT
  statistics   http://127.0.0.1:$STATISTICS_PORT
  payment      http://127.0.0.1:$PAYMENT_PORT
  RabbitMQ     amqp://127.0.0.1:$RABBITMQ_PORT   management UI http://127.0.0.1:$RABBITMQ_MANAGEMENT_PORT (${RABBITMQ_USER:-app}/${RABBITMQ_PASSWORD:-app})
  Postgres     postgresql://postgres@127.0.0.1:$POSTGRES_PORT (password ${POSTGRES_PASSWORD:-postgres})
logs: $COMPOSE logs -f    demo: $COMPOSE --profile demo run --rm demo    stop: make compose-down
EOF
}

start_system() {
  local started=$SECONDS
  log "starting the compose system ($COMPOSE up -d --no-build)"
  if ! compose up -d --no-build; then
    show_state
    die "$COMPOSE up failed"
  fi
  wait_healthy
  log "every service healthy $((SECONDS - started))s after 'up'"
}

cmd_up() {
  ensure_engine
  base_images
  pick_ports 5672 5432 15672
  build_images
  start_system
  print_addresses
}

cmd_down() {
  if ! engine_answers; then
    log "no Docker engine answers: nothing to stop"
    return 0
  fi
  compose --profile demo down --remove-orphans
}

# ---- test ---------------------------------------------------------------------------------

step() {
  printf '\n[compose-test] %s (at %ds)\n' "$*" $((SECONDS - TEST_STARTED)) >&2
}

test_cleanup() {
  local rc=$?
  set +e
  if ((rc != 0)); then
    echo "[compose-test] FAILED (exit $rc); state before tear-down:" >&2
    show_state
  fi
  step "tear-down: containers, network and volumes of $COMPOSE_PROJECT_NAME"
  if engine_answers; then
    compose --profile demo down -v --remove-orphans --timeout 10 >&2
    # Images the rebuild left untagged, and build cache beyond a few GB: the disk is shared.
    $DOCKER image prune -f --filter "$LABEL_FILTER" >/dev/null
    $DOCKER builder prune -f --keep-storage 4GB >/dev/null 2>&1
    # An engine this test started is stopped again (KEEP_ENGINE=1 keeps it): a test run
    # must not leave the machine different from how it found it.
    if [[ ${ENGINE_WAS_UP:-} != 1 && ${KEEP_ENGINE:-} != 1 ]]; then stop_engine_we_started; fi
  fi
  rm -rf "${TEST_REPORTS:-}"
  if ((rc == 0)); then
    printf '\n[compose-test] passed in %ds\n' $((SECONDS - TEST_STARTED)) >&2
  else
    printf '\n[compose-test] FAILED after %ds\n' $((SECONDS - TEST_STARTED)) >&2
  fi
  exit "$rc"
}

cmd_test() {
  TEST_STARTED=$SECONDS
  export COMPOSE_PROJECT_NAME=${COMPOSE_TEST_PROJECT:-amr-compose-test}
  step "engine"
  ENGINE_WAS_UP=0
  if engine_answers; then ENGINE_WAS_UP=1; fi
  ensure_engine
  trap test_cleanup EXIT
  # A run killed half-way leaves its project behind: start from nothing.
  compose --profile demo down -v --remove-orphans --timeout 5 >/dev/null 2>&1 || true
  step "base images"
  base_images
  step "project images"
  build_images
  step "compose up"
  pick_ports 5782 5542 15782
  start_system
  print_addresses

  step "management UI on 127.0.0.1:$RABBITMQ_MANAGEMENT_PORT"
  curl -fsS --max-time 5 -u "${RABBITMQ_USER:-app}:${RABBITMQ_PASSWORD:-app}" \
    "http://127.0.0.1:$RABBITMQ_MANAGEMENT_PORT/api/overview" >/dev/null
  echo "  ok  management API answers" >&2

  step "one order per style through the published ports"
  node scripts/docker/smoke.mjs

  step "demo profile, SCENARIO=two-styles"
  mkdir -p .run
  TEST_REPORTS=$(mktemp -d "$PWD/.run/compose-test-reports.XXXXXX")
  export REPORTS_DIR=$TEST_REPORTS
  SCENARIO=two-styles compose --profile demo run --rm -T demo
  local report owner
  report=$(find "$TEST_REPORTS" -name summary.md | head -1)
  [[ -n $report ]] || die "the demo left no summary.md in the reports folder"
  owner=$(ls -n "$report" | awk '{ print $3 ":" $4 }')
  [[ $owner == "$REPORT_UID:$REPORT_GID" ]] || die "the demo report is owned by $owner, not $REPORT_UID:$REPORT_GID"
  echo "  ok  demo report ${report#"$PWD"/} owned by $owner" >&2
}

case ${1:-} in
  engine) ensure_engine ;;
  engine-stop) stop_engine_we_started ;;
  up) cmd_up ;;
  down) cmd_down ;;
  test) cmd_test ;;
  *)
    echo "usage: scripts/docker/compose.sh engine|engine-stop|up|down|test" >&2
    exit 2
    ;;
esac
