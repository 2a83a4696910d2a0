# Shared by scripts/docker/*.sh (sourced, not run). Bash 3.2 compatible (macOS).

log() { echo "[docker] $*" >&2; }
die() {
  echo "[docker] error: $*" >&2
  exit 1
}

# The docker client. On Debian machines /usr/bin/docker (docker.io, BuildKit built in) is the
# one that builds; a newer client elsewhere on PATH may want a buildx plugin that is missing.
if [[ -z ${DOCKER:-} ]]; then
  if [[ -x /usr/bin/docker ]]; then DOCKER=/usr/bin/docker; else DOCKER=docker; fi
fi
export DOCKER_BUILDKIT=1

# Compose: v2 (`docker compose`) where present, else v1 (`docker-compose`, Debian).
# COMPOSE overrides, e.g. COMPOSE="docker compose".
compose_cmd() {
  if [[ -n ${COMPOSE:-} ]]; then
    echo "$COMPOSE"
  elif $DOCKER compose version >/dev/null 2>&1; then
    echo "$DOCKER compose"
  elif command -v docker-compose >/dev/null; then
    echo docker-compose
  else
    die "neither 'docker compose' nor 'docker-compose' is installed"
  fi
}

# A port is taken when something listens on it, or when any socket uses it as its local
# port (a connection in the machine's ephemeral range, even in TIME-WAIT, makes a bind fail).
port_taken() {
  if command -v ss >/dev/null; then
    [[ -n $(ss -Htan "sport = :$1" 2>/dev/null) ]] && return 0
  fi
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

engine_answers() { $DOCKER info >/dev/null 2>&1; }

need_engine() {
  engine_answers || die "no Docker engine answers ('$DOCKER info'); run 'make compose-up' or start one"
}

# Installs (Debian, as root) and starts a Docker engine when none answers. On a laptop with
# Docker Desktop or a system service, the engine already answers and nothing happens.
ensure_engine() {
  if engine_answers; then return 0; fi
  local missing=()
  command -v dockerd >/dev/null || missing+=(docker.io)
  command -v docker-compose >/dev/null || $DOCKER compose version >/dev/null 2>&1 || missing+=(docker-compose)
  command -v debootstrap >/dev/null || missing+=(debootstrap)
  if ((${#missing[@]} > 0)); then
    if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null; then
      die "no Docker engine answers and ${missing[*]} cannot be installed here: start Docker first"
    fi
    log "installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    [[ -x /usr/bin/docker ]] && DOCKER=/usr/bin/docker
  fi
  if engine_answers; then return 0; fi
  [[ $(id -u) -eq 0 ]] || die "no Docker engine answers; start it (sudo systemctl start docker) and retry"
  # Not systemd: these machines have none. overlay2, not vfs (vfs fills the disk).
  log "starting dockerd (log: /tmp/dockerd.log)"
  nohup dockerd --iptables=false --storage-driver=overlay2 >/tmp/dockerd.log 2>&1 </dev/null &
  mkdir -p .run
  echo $! >.run/dockerd.pid
  local deadline=$((SECONDS + 60))
  until engine_answers; do
    if ((SECONDS >= deadline)); then
      tail -n 20 /tmp/dockerd.log >&2
      die "dockerd did not answer within 60s"
    fi
    sleep 1
  done
  log "dockerd answers ($($DOCKER version --format '{{.Server.Version}}'))"
}

# Stops the dockerd that ensure_engine started (pid in .run/dockerd.pid), and only that one.
# A test harness that uses testcontainers whenever an engine answers would otherwise pick
# this engine up and try to pull images that cannot be pulled here.
stop_engine_we_started() {
  local pid
  [[ -f .run/dockerd.pid ]] || return 0
  pid=$(<.run/dockerd.pid)
  rm -f .run/dockerd.pid
  [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null || return 0
  ps -p "$pid" -o comm= 2>/dev/null | grep -q dockerd || return 0
  log "stopping the dockerd this script started (pid $pid)"
  kill -TERM "$pid"
  local deadline=$((SECONDS + 30))
  while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.5; done
}

# docker build with the host's network (npm registry) and, when NODE_EXTRA_CA_CERTS names a
# file, that CA as a build secret (corporate proxies, the project's machines).
docker_build() {
  local -a extra=(--network host)
  if [[ -n ${NODE_EXTRA_CA_CERTS:-} && -f ${NODE_EXTRA_CA_CERTS:-} ]]; then
    extra+=(--secret "id=ca,src=$NODE_EXTRA_CA_CERTS")
  fi
  $DOCKER build "${extra[@]}" "$@"
}
