#!/usr/bin/env bash
# CI check (.ci/run, after `make compose-test`): `USE_CONTAINERS=1 make demo
# SCENARIO=two-styles` on a machine whose own servers hold 5672 and 5432, then `make down`,
# the volumes removed (`scripts/servers.sh clean`, REMOVE_VOLUMES=1) and untagged images
# of this project pruned, even on failure. Fails when the demo fails or when a container of
# SERVERS_PROJECT is left.
# SERVERS_PROJECT (amr-ci-servers) keeps it apart from a developer's `make up` containers.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/docker/lib.sh

export SERVERS_PROJECT=${SERVERS_PROJECT:-amr-ci-servers}
export USE_CONTAINERS=1
SCENARIO=${SCENARIO:-two-styles}
started=$SECONDS
rc=0

say() { printf '[ci-demo] %s (at %ds)\n' "$*" $((SECONDS - started)) >&2; }

if [[ -f .run/containers.env ]]; then
  say "error: .run/containers.env records containers already; 'make down' first"
  exit 1
fi

say "USE_CONTAINERS=1 make demo SCENARIO=$SCENARIO"
DEMO_PROGRESS=lines make demo SCENARIO="$SCENARIO" || rc=$?
if ((rc != 0)); then say "FAILED: make demo exited with $rc"; fi

say "make down"
make down || {
  say "FAILED: make down"
  rc=1
}
REMOVE_VOLUMES=1 scripts/servers.sh clean || rc=1
if engine_answers; then
  # Untagged images of this project only; the tagged ones stay for the next run's speed.
  $DOCKER image prune -f --filter label=amr.project=async-messaging-reference >/dev/null || true
  left=$($DOCKER ps -a --filter "label=com.docker.compose.project=$SERVERS_PROJECT" --format '{{.Names}} ({{.Status}})')
  if [[ -n $left ]]; then
    say "FAILED: containers of $SERVERS_PROJECT left after make down: $left"
    rc=1
  fi
  # Anyone else's (a shared engine) is reported, not removed.
  others=$($DOCKER ps --format '{{.Names}}')
  if [[ -n $others ]]; then say "note: other containers run on this engine: $others"; fi
fi
if ((rc == 0)); then say "passed in $((SECONDS - started))s"; else say "FAILED after $((SECONDS - started))s"; fi
exit "$rc"
