#!/usr/bin/env bash
# `make test-containers`: the test suite on one RabbitMQ and one Postgres container that the
# harness starts with testcontainers (shared/testing/src/containers.ts), whatever local
# servers answer or TEST_*_URL name.
#   - a Docker engine: the one that answers, else one started here (Debian, as root) and
#     stopped again afterwards (KEEP_ENGINE=1 keeps it);
#   - images: RABBITMQ_IMAGE / POSTGRES_IMAGE as in docker-compose.yml (official by default),
#     or stand-ins built from Debian's packages where those cannot be pulled
#     (scripts/docker/base-images.sh --servers-only);
#   - arguments go to shared/testing/dist/cli/run-tests.js: `-- PATTERN...` picks test files.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/docker/lib.sh

engine_was_up=0
if engine_answers; then engine_was_up=1; fi
on_exit() {
  if [[ $engine_was_up != 1 && ${KEEP_ENGINE:-} != 1 ]]; then stop_engine_we_started; fi
}
trap on_exit EXIT
ensure_engine
scripts/docker/base-images.sh --servers-only
set -a
source .run/server-images.env
set +a

# The servers are the containers, whatever the environment named.
unset TEST_RABBITMQ_URL TEST_RABBITMQ_MANAGEMENT_URL TEST_POSTGRES_URL TEST_INFRASTRUCTURE_SOURCE \
  TEST_RABBITMQ_CONTAINER_ID TEST_POSTGRES_CONTAINER_ID TEST_RUN_ID
export TEST_SERVERS=containers CI=true
node shared/testing/dist/cli/run-tests.js "$@"
