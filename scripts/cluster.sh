#!/usr/bin/env bash
# A three-node RabbitMQ cluster on this machine, beside (never instead of) its own broker:
#   scripts/cluster.sh up       start rabbit-a/b/c@localhost, join them, load the definitions
#   scripts/cluster.sh down     stop exactly these three nodes, delete .run/cluster
#   scripts/cluster.sh status   cluster_status and the nodes' AMQP URLs
#   scripts/cluster.sh urls     the comma-separated RABBITMQ_URL of one user (default guest)
#   scripts/cluster.sh env      exports for `make up` on the cluster: eval "$(scripts/cluster.sh env)"
#   scripts/cluster.sh stop-node b / start-node b   one node down and up again (the tests)
#   scripts/cluster.sh ctl ...  rabbitmqctl with the cluster's cookie (-n rabbit-a@localhost ...)
#
# Each node has its own name, ports (AMQP 5681-5683, management 15681-15683, distribution
# 25681-25683), data and log folders under .run/cluster/<node>, its own config and
# rabbitmq-env.conf (so /etc/rabbitmq's, which names the machine's node, is not read), and
# a HOME with an Erlang cookie of its own: the machine's broker (rabbit@localhost on 5672
# and 25672) and its cookie are never touched. Debian's rabbitmq-server is started from
# /usr/lib/rabbitmq/bin (the /usr/sbin wrapper drops the variables); as root here.
# `up` stops whatever it started when a step fails.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BASE="$ROOT/.run/cluster"
HOST=localhost
NODES=(a b c)
BIN=/usr/lib/rabbitmq/bin
DEFINITIONS="${CLUSTER_DEFINITIONS:-$ROOT/infra/rabbitmq/definitions.json}"

amqp_port() { echo $((5680 + $1)); }
node_name() { echo "rabbit-$1@$HOST"; }

# The cookie lives in HOME/.erlang.cookie; rabbitmqctl reads the same one.
ctl() {
  HOME="$BASE/home" RABBITMQ_CONF_ENV_FILE="$BASE/empty-env.conf" "$BIN/rabbitmqctl" "$@"
}

node_env() {
  local n=$1 letter=${NODES[$1 - 1]}
  local dir="$BASE/$letter"
  echo "HOME=$BASE/home"
  echo "RABBITMQ_CONF_ENV_FILE=$dir/rabbitmq-env.conf"
  echo "RABBITMQ_NODENAME=$(node_name "$letter")"
  echo "RABBITMQ_NODE_IP_ADDRESS=127.0.0.1"
  echo "RABBITMQ_NODE_PORT=$(amqp_port "$n")"
  echo "RABBITMQ_DIST_PORT=$((25680 + n))"
  echo "RABBITMQ_MNESIA_BASE=$dir/mnesia"
  echo "RABBITMQ_LOG_BASE=$dir/log"
  echo "RABBITMQ_PID_FILE=$dir/rabbit.pid"
  echo "RABBITMQ_ENABLED_PLUGINS_FILE=$dir/enabled_plugins"
  echo "RABBITMQ_CONFIG_FILE=$dir/rabbitmq.conf"
  echo "RABBITMQ_ADVANCED_CONFIG_FILE=$dir/advanced.config"
  echo "RABBITMQ_SCHEMA_DIR=$dir/schema"
  echo "RABBITMQ_GENERATED_CONFIG_DIR=$dir/config"
}

start_node() {
  local n=$1 letter=${NODES[$1 - 1]}
  local dir="$BASE/$letter"
  mkdir -p "$dir/mnesia" "$dir/log" "$dir/schema" "$dir/config"
  : >"$dir/rabbitmq-env.conf"
  echo '[rabbitmq_management].' >"$dir/enabled_plugins"
  echo '[].' >"$dir/advanced.config"
  cat >"$dir/rabbitmq.conf" <<EOF
listeners.tcp.default = 127.0.0.1:$(amqp_port "$n")
management.tcp.port = $((15680 + n))
management.tcp.ip = 127.0.0.1
EOF
  # shellcheck disable=SC2046
  env $(node_env "$n") "$BIN/rabbitmq-server" -detached
}

# `wait` waits for the pid file (written early in the boot), then for the app to run;
# `await_startup` alone gives up at once on a node not yet registered with epmd.
await_node() {
  ctl -n "$(node_name "$1")" -q wait "$BASE/$1/rabbit.pid" --timeout 180
}

# The Erlang VMs of these nodes, and only these: their HOME is the cluster's own folder.
own_pids() {
  local pid
  for pid in $(pgrep -x beam.smp || true); do
    if { tr '\0' '\n' <"/proc/$pid/environ"; } 2>/dev/null | grep -qx "HOME=$BASE/home"; then
      echo "$pid"
    fi
  done
}

up() {
  if [[ -d "$BASE" ]] && ctl -n "$(node_name a)" -q ping >/dev/null 2>&1; then
    echo "cluster already up (scripts/cluster.sh down first)"
    exit 0
  fi
  rm -rf "$BASE"
  mkdir -p "$BASE/home"
  : >"$BASE/empty-env.conf"
  head -c 24 /dev/urandom | base64 | tr -dc 'A-Za-z' >"$BASE/home/.erlang.cookie"
  chmod 400 "$BASE/home/.erlang.cookie"
  # EXIT, not ERR: set -e ends the script inside a helper function, where an ERR trap set
  # here would not run.
  UP_DONE=0
  trap 'if [[ $UP_DONE == 0 ]]; then echo "cluster up failed: stopping the nodes it started" >&2; down; fi' EXIT
  local started=$SECONDS
  for n in 1 2 3; do start_node "$n"; done
  for letter in "${NODES[@]}"; do await_node "$letter"; done
  for letter in b c; do
    ctl -n "$(node_name "$letter")" -q stop_app
    ctl -n "$(node_name "$letter")" -q join_cluster "$(node_name a)"
    ctl -n "$(node_name "$letter")" -q start_app
  done
  ctl -n "$(node_name a)" -q import_definitions "$DEFINITIONS"
  UP_DONE=1
  trap - EXIT
  echo "cluster up in $((SECONDS - started)) s: $(urls guest)"
}

down() {
  local letter pids
  for letter in "${NODES[@]}"; do
    ctl -n "$(node_name "$letter")" -q stop >/dev/null 2>&1 || true
  done
  # A node that did not answer rabbitmqctl (half-started, or its cookie gone): its own VM,
  # found by its HOME, nothing else.
  pids=$(own_pids)
  if [[ -n "$pids" ]]; then
    # shellcheck disable=SC2086
    kill $pids 2>/dev/null || true
    for _ in 1 2 3 4 5 6 7 8 9 10; do
      pids=$(own_pids)
      [[ -z "$pids" ]] && break
      sleep 1
    done
    # shellcheck disable=SC2086
    [[ -n "$pids" ]] && kill -9 $pids 2>/dev/null || true
  fi
  rm -rf "$BASE"
  echo "cluster down"
}

status() {
  if ctl -n "$(node_name a)" -q ping >/dev/null 2>&1; then
    ctl -n "$(node_name a)" cluster_status
  else
    echo "rabbit-a is not running"
  fi
  for letter in "${NODES[@]}"; do
    if ctl -n "$(node_name "$letter")" -q ping >/dev/null 2>&1; then
      echo "$(node_name "$letter"): running"
    else
      echo "$(node_name "$letter"): stopped"
    fi
  done
  echo "RABBITMQ_URL=$(urls guest)"
}

# The comma-separated URLs of the three nodes for one user (the `messaging` vhost for a
# service user, the default vhost for guest).
urls() {
  local user=${1:-guest} password vhost list=""
  if [[ $user == guest ]]; then
    password=guest vhost=""
  else
    password="$user-local-only" vhost=messaging
  fi
  for n in 1 2 3; do
    list+="${list:+,}amqp://$user:$password@127.0.0.1:$(amqp_port "$n")/$vhost"
  done
  echo "$list"
}

# One node stopped (its VM ends) or started again with its data: it rejoins by itself.
stop_one() { ctl -n "$(node_name "$1")" -q stop; }
start_one() {
  local n
  case "$1" in a) n=1 ;; b) n=2 ;; c) n=3 ;; *) echo "no node $1" >&2; exit 2 ;; esac
  rm -f "$BASE/$1/rabbit.pid"
  start_node "$n"
  await_node "$1"
}

# Exports that point `make up` (scripts/services.sh reads <SERVICE>_RABBITMQ_URL) at the
# cluster: every service its own user on the three nodes, quorum queues with three replicas;
# the dashboard, which reads one broker, node a and its management API.
#   eval "$(scripts/cluster.sh env)" && make up
env_exports() {
  local service
  for service in order invoicing shipping statistics payment; do
    echo "export $(echo "$service" | tr '[:lower:]' '[:upper:]')_RABBITMQ_URL=$(urls "$service")"
  done
  echo "export DASHBOARD_RABBITMQ_URL=amqp://dashboard:dashboard-local-only@127.0.0.1:$(amqp_port 1)/messaging"
  echo "export RABBITMQ_MANAGEMENT_URL=http://guest:guest@127.0.0.1:15681"
  echo "export RABBITMQ_QUORUM_REPLICAS=3"
}

case "${1:-}" in
  up) up ;;
  env) env_exports ;;
  stop-node) stop_one "${2:?which node: a, b or c}" ;;
  start-node) start_one "${2:?which node: a, b or c}" ;;
  down) down ;;
  status) status ;;
  urls) urls "${2:-guest}" ;;
  ctl) shift; ctl "$@" ;;
  *)
    echo "usage: scripts/cluster.sh up|down|status|env|urls [user]|stop-node X|start-node X|ctl <rabbitmqctl args>" >&2
    exit 2
    ;;
esac
