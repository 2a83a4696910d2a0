#!/usr/bin/env bash
# Picks the three base images the compose system needs and writes the choice to
# .run/docker-images.env (NODE_IMAGE, RABBITMQ_IMAGE, POSTGRES_IMAGE):
#   - the official images by default (node:24-bookworm-slim, rabbitmq:3.10-management,
#     postgres:15), or whatever the variables of the same names say, when present locally
#     or pullable;
#   - otherwise (no Docker Hub: air-gapped rooms, the project's CI machines) stand-ins built
#     here from Debian's packages (infra/images/*), FROM a minimal Debian made by debootstrap.
# STANDIN_IMAGES=always skips the pull attempts; PULL_TIMEOUT_S bounds each attempt (20 s).
# --servers-only: RabbitMQ and Postgres only (scripts/servers.sh), written to
# .run/server-images.env.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."
source scripts/docker/lib.sh

NODE_IMAGE=${NODE_IMAGE:-node:24-bookworm-slim}
RABBITMQ_IMAGE=${RABBITMQ_IMAGE:-rabbitmq:3.10-management}
POSTGRES_IMAGE=${POSTGRES_IMAGE:-postgres:15}
STANDIN_IMAGES=${STANDIN_IMAGES:-auto}
PULL_TIMEOUT_S=${PULL_TIMEOUT_S:-20}
readonly STANDIN_BASE=amr-standin/debian:bookworm
SERVERS_ONLY=0
OUT=.run/docker-images.env
if [[ ${1:-} == --servers-only ]]; then
  SERVERS_ONLY=1
  OUT=.run/server-images.env
fi
readonly SERVERS_ONLY OUT

have_image() { $DOCKER image inspect "$1" >/dev/null 2>&1; }

# usable IMAGE: present, or pulled within the timeout.
usable() {
  [[ $STANDIN_IMAGES == always ]] && return 1
  have_image "$1" && return 0
  log "pulling $1 (up to ${PULL_TIMEOUT_S}s)"
  if timeout "$PULL_TIMEOUT_S" $DOCKER pull -q "$1" >/dev/null 2>&1; then return 0; fi
  log "$1 cannot be pulled here; using a stand-in built from Debian's packages"
  return 1
}

debian_mirror() {
  local file=/etc/apt/sources.list.d/debian.sources
  if [[ -f $file ]]; then
    awk '/^URIs:/ { print $2; exit }' "$file"
  elif [[ -f /etc/apt/sources.list ]]; then
    awk '$1 == "deb" && $2 !~ /security/ { print $2; exit }' /etc/apt/sources.list
  fi
}

ensure_standin_base() {
  have_image "$STANDIN_BASE" && return 0
  command -v debootstrap >/dev/null || die "debootstrap is needed for the stand-in images (apt-get install -y debootstrap)"
  local mirror rootfs
  mirror=$(debian_mirror)
  mirror=${mirror:-http://deb.debian.org/debian}
  rootfs=$(mktemp -d /tmp/amr-rootfs.XXXXXX)
  log "debootstrap bookworm from $mirror (about a minute)"
  if ! debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$rootfs.log" 2>&1; then
    tail -n 20 "$rootfs.log" >&2
    rm -rf "$rootfs" "$rootfs.log"
    die "debootstrap failed"
  fi
  tar -C "$rootfs" -c . | $DOCKER import - "$STANDIN_BASE" >/dev/null
  rm -rf "$rootfs" "$rootfs.log"
  log "imported $STANDIN_BASE"
}

build_standin() { # build_standin TAG CONTEXT
  have_image "$1" && return 0
  ensure_standin_base
  log "building stand-in $1"
  docker_build --quiet --build-arg "BASE_IMAGE=$STANDIN_BASE" -t "$1" "$2" >/dev/null
}

standin_node() {
  local tag=amr-standin/node:24 context node_bin npm_dir
  have_image "$tag" && { echo "$tag"; return 0; }
  node_bin=$(scripts/ensure-node.sh --print-node)
  npm_dir=$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")
  [[ -f $npm_dir/package.json ]] || die "cannot find npm's folder (from $(command -v npm))"
  context=$(mktemp -d /tmp/amr-node-context.XXXXXX)
  cp infra/images/node/Dockerfile "$context/"
  cp "$node_bin" "$context/node"
  cp -r "$npm_dir" "$context/npm"
  build_standin "$tag" "$context"
  rm -rf "$context"
  echo "$tag"
}

main() {
  need_engine
  local node rabbitmq postgres
  if ((SERVERS_ONLY)); then node=; elif usable "$NODE_IMAGE"; then node=$NODE_IMAGE; else node=$(standin_node); fi
  if usable "$RABBITMQ_IMAGE"; then rabbitmq=$RABBITMQ_IMAGE; else
    rabbitmq=amr-standin/rabbitmq:3.10-management
    build_standin "$rabbitmq" infra/images/rabbitmq
  fi
  if usable "$POSTGRES_IMAGE"; then postgres=$POSTGRES_IMAGE; else
    postgres=amr-standin/postgres:15
    build_standin "$postgres" infra/images/postgres
  fi
  mkdir -p "$(dirname "$OUT")"
  if ((SERVERS_ONLY)); then
    printf 'RABBITMQ_IMAGE=%s\nPOSTGRES_IMAGE=%s\n' "$rabbitmq" "$postgres" >"$OUT"
    log "server images: rabbitmq=$rabbitmq postgres=$postgres (in $OUT)"
  else
    printf 'NODE_IMAGE=%s\nRABBITMQ_IMAGE=%s\nPOSTGRES_IMAGE=%s\n' "$node" "$rabbitmq" "$postgres" >"$OUT"
    log "base images: node=$node rabbitmq=$rabbitmq postgres=$postgres (in $OUT)"
  fi
}

main "$@"
