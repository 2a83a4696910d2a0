#!/usr/bin/env bash
# Runs the services as background processes on this machine (the path `make up` takes).
#
#   scripts/services.sh start [service...]   start, then wait until each /health/ready is 200
#   scripts/services.sh stop [service...]    SIGTERM, wait up to 15 s, then SIGKILL
#   scripts/services.sh status [service...]  process and readiness of each
#   scripts/services.sh start invoicing-2    a second instance (port 3012), see service_of below
#
# Each service runs the same entry point as in the image: node services/<name>/dist/main.js.
# Logs go to .run/logs/<name>.log (the previous run's log is kept as <name>.log.1),
# pids to .run/<name>.pid. <NAME>_DATABASE_URL and <NAME>_PORT override a service's defaults.
set -euo pipefail
set +m # without job control, `setsid` below execs in place, so $! is the node process.

cd "$(dirname "${BASH_SOURCE[0]}")/.."

# The hand-written services, then any other folder under services/ with an entry point (one
# made by `npm run new-service`), so a new service needs no edit here; the dashboard last.
discover_services() {
  local known=" order invoicing shipping statistics payment dashboard " dir
  echo order invoicing shipping statistics payment
  for dir in services/*/src/main.ts; do
    dir=${dir#services/}
    dir=${dir%%/*}
    if [[ -e services/$dir/src/main.ts && $known != *" $dir "* ]]; then echo "$dir"; fi
  done
  echo dashboard
}
# shellcheck disable=SC2207 # one word per service name
readonly ALL_SERVICES=($(discover_services))
readonly RUN_DIR=.run
readonly LOG_DIR=$RUN_DIR/logs
readonly READY_TIMEOUT_S=${READY_TIMEOUT_S:-60}
readonly STOP_TIMEOUT_S=${STOP_TIMEOUT_S:-15}

die() {
  echo "services: $*" >&2
  exit 1
}

# ORDER for order. Bash 3.2 (macOS) cannot upper-case in an expansion.
upper() { printf '%s' "$1" | tr '[:lower:]' '[:upper:]'; }

# A further instance of a service is named <service>-<n> (n >= 2): `start invoicing-2` runs a
# second Invoicing beside the first, on the service's port + 10 * (n - 1) (3012), with its own
# pid file and log, INSTANCE_ID=invoicing-2, competing for the same queues.
service_of() { if [[ $1 =~ ^(.+)-([0-9]+)$ ]]; then echo "${BASH_REMATCH[1]}"; else echo "$1"; fi; }
instance_of() { if [[ $1 =~ -([0-9]+)$ ]]; then echo "${BASH_REMATCH[1]}"; else echo 1; fi; }

port_of() {
  local default
  case $(service_of "$1") in
    order) default=3001 ;;
    invoicing) default=3002 ;;
    shipping) default=3003 ;;
    statistics) default=3004 ;;
    payment) default=3005 ;;
    dashboard) default=3000 ;;
    *)
      # Another service's default port is in its config.ts: serviceEnvSchema('<name>', <port>).
      local service
      service=$(service_of "$1")
      default=$(sed -n "s/.*serviceEnvSchema('$service', *\([0-9][0-9]*\)).*/\1/p" \
        "services/$service/src/config.ts" 2>/dev/null || true)
      [[ -n $default ]] || die "unknown service '$1' (known: ${ALL_SERVICES[*]})"
      ;;
  esac
  local var
  var="$(upper "$(service_of "$1")")_PORT"
  echo $((${!var:-$default} + 10 * ($(instance_of "$1") - 1)))
}

# Milliseconds on a sub-second clock; $SECONDS would cut a deadline short by up to 1 s.
# EPOCHREALTIME needs bash 5; bash 3.2 (macOS) falls back to whole seconds.
now_ms() {
  if [[ -n ${EPOCHREALTIME:-} ]]; then
    local us=${EPOCHREALTIME//[.,]/}
    echo $((us / 1000))
  else
    echo $(($(date +%s) * 1000))
  fi
}

ready_url() { echo "http://127.0.0.1:$(port_of "$1")/health/ready"; }
pid_file() { echo "$RUN_DIR/$1.pid"; }
log_file() { echo "$LOG_DIR/$1.log"; }

# Prints the pid when the pid file names a live process running this service's entry point.
# A pid file left by a crash, or a pid reused by another program, counts as not running.
running_pid() {
  local file pid
  file=$(pid_file "$1")
  [[ -f $file ]] || return 1
  pid=$(<"$file")
  [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null || return 1
  ps -p "$pid" -o args= 2>/dev/null | grep -q "services/$(service_of "$1")/dist/main.js" || return 1
  echo "$pid"
}

port_in_use() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

is_ready() {
  curl --silent --fail --output /dev/null --max-time 2 "$(ready_url "$1")"
}

show_log_tail() {
  local log
  log=$(log_file "$1")
  echo "---- last 20 lines of $log ----" >&2
  if [[ -f $log ]]; then tail -n 20 "$log" >&2; else echo "(no log file)" >&2; fi
  echo "----" >&2
}

start_one() {
  local name=$1 port main log pid db_var
  port=$(port_of "$name")
  main="services/$(service_of "$name")/dist/main.js"
  log=$(log_file "$name")

  if pid=$(running_pid "$name"); then
    echo "$name: already running (pid $pid); not starting another"
    return 0
  fi
  rm -f "$(pid_file "$name")"
  [[ -f $main ]] || die "$main is missing; run 'make build' first"
  # Something else on the port would answer the readiness check in our place.
  if port_in_use "$port"; then
    die "$name: port $port is already in use by another process; stop it or set $(upper "$name")_PORT"
  fi

  if [[ -f $log ]]; then mv -f "$log" "$log.1"; fi
  db_var="$(upper "$(service_of "$name")")_DATABASE_URL"
  broker_var="$(upper "$(service_of "$name")")_RABBITMQ_URL"
  # A DATABASE_URL exported in the shell would point every service at one database.
  local -a env_vars=(-u DATABASE_URL -u RABBITMQ_URL "PORT=$port")
  # A workshop/dev path: FAULT_* and /admin/faults work here (services refuse them otherwise).
  env_vars+=("ALLOW_FAULT_SWITCHES=${ALLOW_FAULT_SWITCHES:-true}")
  if [[ $(instance_of "$name") != 1 ]]; then env_vars+=("INSTANCE_ID=$name"); fi
  if [[ -n ${!db_var:-} ]]; then env_vars+=("DATABASE_URL=${!db_var}"); fi
  # The dashboard reads every service's HTTP API, wherever its port was moved.
  if [[ $name == dashboard ]]; then
    local other
    for other in "${ALL_SERVICES[@]}"; do
      [[ $other == dashboard ]] || env_vars+=("$(upper "$other")_URL=http://127.0.0.1:$(port_of "$other")")
    done
  fi
  # Written by `make setup`: the service's own broker user, or the one shared user.
  if [[ -f $RUN_DIR/broker.env ]]; then
    local broker_url
    broker_url=$(sed -n "s/^${broker_var}=//p" "$RUN_DIR/broker.env")
    if [[ -n $broker_url ]]; then env_vars+=("RABBITMQ_URL=$broker_url"); fi
  fi
  if [[ -n ${!broker_var:-} ]]; then env_vars+=("RABBITMQ_URL=${!broker_var}"); fi

  # setsid detaches the service from this terminal: Node resets inherited signal
  # dispositions, so nohup alone would not keep Ctrl-C or a closed terminal from killing it.
  # (macOS has no setsid; bash 3.2 calls an empty array unbound, hence the ${...+...}.)
  local -a detach=()
  if command -v setsid >/dev/null; then detach=(setsid); fi
  env "${env_vars[@]}" nohup ${detach[@]+"${detach[@]}"} node "$main" >>"$log" 2>&1 </dev/null &
  echo $! >"$(pid_file "$name")"
  echo "$name: started (pid $!, port $port, log $log)"
}

wait_until_ready() {
  local -a pending=("$@")
  local deadline=$(($(now_ms) + READY_TIMEOUT_S * 1000))
  echo "waiting up to ${READY_TIMEOUT_S}s for /health/ready ..."
  while ((${#pending[@]} > 0)); do
    local -a still=()
    local name
    for name in "${pending[@]}"; do
      if is_ready "$name"; then
        echo "$name: ready"
      elif ! running_pid "$name" >/dev/null; then
        echo "$name: exited before becoming ready" >&2
        show_log_tail "$name"
        return 1
      else
        still+=("$name")
      fi
    done
    pending=("${still[@]+"${still[@]}"}")
    ((${#pending[@]} == 0)) && break
    if (($(now_ms) >= deadline)); then
      for name in "${pending[@]}"; do
        echo "$name: not ready after ${READY_TIMEOUT_S}s ($(ready_url "$name"))" >&2
        show_log_tail "$name"
      done
      return 1
    fi
    sleep 0.5
  done
}

print_table() {
  local name
  printf '\n%-12s %-24s %s\n' SERVICE URL READINESS
  for name in "$@"; do
    printf '%-12s %-24s %s\n' "$name" "http://127.0.0.1:$(port_of "$name")" "$(ready_url "$name")"
  done
  echo
  echo "logs: make logs    status: make status    stop: make down"
}

cmd_start() {
  command -v curl >/dev/null || die "curl is needed to check readiness (apt-get install -y curl)"
  mkdir -p "$LOG_DIR"
  local name
  for name in "$@"; do start_one "$name"; done
  wait_until_ready "$@"
  print_table "$@"
}

cmd_stop() {
  local name pid
  local -a stopping=()
  for name in "$@"; do
    if pid=$(running_pid "$name"); then
      kill -TERM "$pid" 2>/dev/null || true
      stopping+=("$name:$pid")
      echo "$name: SIGTERM sent (pid $pid)"
    else
      if [[ -f $(pid_file "$name") ]]; then echo "$name: not running (removing stale pid file)"; fi
      rm -f "$(pid_file "$name")"
    fi
  done

  local deadline=$(($(now_ms) + STOP_TIMEOUT_S * 1000)) entry
  while ((${#stopping[@]} > 0)); do
    local -a alive=()
    for entry in "${stopping[@]}"; do
      name=${entry%%:*} pid=${entry#*:}
      if kill -0 "$pid" 2>/dev/null; then
        alive+=("$entry")
      else
        echo "$name: stopped"
        rm -f "$(pid_file "$name")"
      fi
    done
    stopping=("${alive[@]+"${alive[@]}"}")
    ((${#stopping[@]} == 0)) && break
    if (($(now_ms) >= deadline)); then
      for entry in "${stopping[@]}"; do
        name=${entry%%:*} pid=${entry#*:}
        echo "$name: still running after ${STOP_TIMEOUT_S}s; sending SIGKILL (pid $pid)" >&2
        kill -KILL "$pid" 2>/dev/null || true
        rm -f "$(pid_file "$name")"
      done
      break
    fi
    sleep 0.2
  done
}

cmd_status() {
  local name pid state ready
  printf '%-12s %-10s %-8s %-8s %s\n' SERVICE STATE PID READY URL
  for name in "$@"; do
    ready=-
    if pid=$(running_pid "$name"); then
      state=running
      if is_ready "$name"; then ready=yes; else ready=no; fi
    else
      pid=-
      state=stopped
      if [[ -f $(pid_file "$name") ]]; then state=stale-pid; fi
    fi
    printf '%-12s %-10s %-8s %-8s %s\n' "$name" "$state" "$pid" "$ready" \
      "http://127.0.0.1:$(port_of "$name")"
  done
}

main() {
  local command=${1:-}
  shift || true
  local -a services=("$@")
  if ((${#services[@]} == 0)); then
    services=("${ALL_SERVICES[@]}")
    # `stop` and `status` without names also take the further instances (invoicing-2).
    if [[ $command != start ]]; then
      local file
      for file in "$RUN_DIR"/*-[0-9]*.pid; do
        [[ -f $file ]] && services+=("$(basename "$file" .pid)")
      done
    fi
  fi
  local name
  for name in "${services[@]}"; do port_of "$name" >/dev/null; done

  case $command in
    start) cmd_start "${services[@]}" ;;
    stop) cmd_stop "${services[@]}" ;;
    status) cmd_status "${services[@]}" ;;
    *)
      echo "usage: scripts/services.sh start|stop|status [service...]" >&2
      exit 2
      ;;
  esac
}

main "$@"
