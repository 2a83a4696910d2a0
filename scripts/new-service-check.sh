#!/usr/bin/env bash
# The generator's round trip, in a scratch copy of this tree (the tree itself is never
# touched, so other work in it is not disturbed and nothing is left behind, even on failure):
#
#   scripts/new-service-check.sh [name]        (default loyalty; `make new-service-check`)
#
#  1. copy the tree (tracked and untracked files, build output) and commit it in a scratch
#     git repository; node_modules points into this tree's
#  2. bad names refused with nothing changed; npm run new-service -- <name>; every unit
#     test (its own with the template's rule)
#  3. the attendee's lab change (new-service.mjs --lab-solution), then build, lint (eslint,
#     prettier, dependency-cruiser, contract documents) and type-check the new service
#  4. `make setup` for it (node scripts/setup.mjs <name>): its database, roles and broker
#     user on the local servers, and it logs in with them; `make up`'s scripts/services.sh
#     starts it on them (a free port) and it answers
#  5. its unit and integration tests: these start it with all the others (startSystem),
#     place orders and see it record the event-style one
#  6. `git diff --stat services/order` is empty; npm run remove-service -- <name> (which drops its data too);
#     `git status --porcelain` is empty again
# Needs the tree built (make build) and RabbitMQ and Postgres (TEST_RABBITMQ_URL,
# TEST_POSTGRES_URL, or the local defaults).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
readonly ROOT=$PWD
readonly NAME=${1:-loyalty}
export TEST_RABBITMQ_URL=${TEST_RABBITMQ_URL:-amqp://guest:guest@127.0.0.1:5672}
export TEST_POSTGRES_URL=${TEST_POSTGRES_URL:-postgresql://postgres@127.0.0.1:5432/postgres}
# The copy's node_modules points into this tree's: npm may touch package-lock.json only.
export NEW_SERVICE_LOCK_ONLY=1

started=$SECONDS
step() { printf '\n[new-service-check %3ds] %s\n' $((SECONDS - started)) "$*"; }
die() {
  echo "[new-service-check] FAILED: $*" >&2
  exit 1
}

[[ -f shared/testing/dist/index.js ]] || die "the tree is not built: run 'make build' first"
[[ ! -e services/$NAME ]] || die "services/$NAME exists in this tree; the check generates it afresh"

SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/new-service-check.XXXXXX")
# rabbitmqctl import_definitions has the broker (another user) read the definitions file.
chmod 755 "$SCRATCH"
generated=
cleanup() {
  local rc=$?
  if [[ -n $generated ]]; then
    (cd "$SCRATCH" && scripts/services.sh stop "$NAME" >/dev/null 2>&1) || true
    # Whatever failed, the database, roles, broker user and queues go with the scratch copy.
    (cd "$SCRATCH" && node scripts/remove-service.mjs "$NAME" 2>&1 | grep -v "^\[remove-service\] services/\|taken out") || true
  fi
  rm -rf "$SCRATCH"
  if ((rc == 0)); then
    printf '\n[new-service-check] passed in %ds\n' $((SECONDS - started))
  else
    printf '\n[new-service-check] failed after %ds (exit %d)\n' $((SECONDS - started)) "$rc" >&2
  fi
}
trap cleanup EXIT

step "scratch copy of the tree in $SCRATCH"
git ls-files -z --cached --others --exclude-standard |
  tar --null --files-from=- --ignore-failed-read -cf - 2>/dev/null | tar -C "$SCRATCH" -xf -
# Build output too (git-ignored), so the build below is incremental.
for dir in shared/*/dist services/*/dist services/*/src/generated demo/dist bench/dist; do
  [[ -d $dir ]] && mkdir -p "$SCRATCH/$(dirname "$dir")" && cp -a "$dir" "$SCRATCH/$dir"
done
mkdir -p "$SCRATCH/node_modules"
for entry in node_modules/* node_modules/.bin; do
  [[ $entry == node_modules/@app ]] || ln -s "$ROOT/$entry" "$SCRATCH/$entry"
done
# The workspaces' links are relative (../../shared/contracts): copied, they point into the copy.
cp -a node_modules/@app "$SCRATCH/node_modules/@app"
cp -a node_modules/.package-lock.json "$SCRATCH/node_modules/" 2>/dev/null || true

cd "$SCRATCH"
git init -q
git add -A
git -c user.name=check -c user.email=check@localhost commit -qm 'the tree as it was' --no-verify
[[ -z $(git status --porcelain) ]] || die "the scratch copy is not clean"

step "bad names are refused and change nothing"
for bad in Loyalty gift-cards gift_cards 9lives ab statistics order dashboard postgres testdb; do
  if node scripts/new-service.mjs "$bad" >/dev/null 2>&1; then die "new-service accepted \"$bad\""; fi
done
[[ -z $(git status --porcelain) ]] || die "a refused name changed the tree: $(git status --porcelain)"
node scripts/new-service.mjs gift-cards 2>&1 | head -1 || true
echo "10 names refused, the tree unchanged"

step "npm run new-service -- $NAME"
generated=1
node scripts/new-service.mjs "$NAME"
git status --porcelain

step "build: its Prisma client, then every package (the shared catalog changed)"
node scripts/prisma.mjs generate "$NAME" >/dev/null
npx tsc -b services/* shared/testing

step "every unit test, with $NAME in the catalog (its own as generated: no points yet)"
# A test elsewhere that spells out the list of services or queues would go red here.
npx jest --ci --selectProjects unit

step "the attendee's lab change (new-service.mjs --lab-solution $NAME)"
node scripts/new-service.mjs --lab-solution "$NAME"
npx tsc -b "services/$NAME"

step "lint: eslint, prettier, dependency-cruiser, contract documents; type-check its tests"
npx eslint "services/$NAME" scripts/new-service.mjs scripts/remove-service.mjs scripts/service-template
npx prettier --check --ignore-unknown "services/$NAME" $(git status --porcelain | awk '{ print $2 }' | grep -v "^services/$NAME/")
npx depcruise --config .dependency-cruiser.cjs "services/$NAME/src" "services/$NAME/test"
node scripts/contracts.mjs check
# Its compose service and Prometheus target, where the tools are installed (CI installs them).
if command -v docker-compose >/dev/null; then
  docker-compose -f docker-compose.yml config -q && echo "docker-compose.yml is valid"
fi
if command -v promtool >/dev/null; then promtool check config infra/observability/prometheus.yml; fi
cat >tsconfig.new-service.json <<EOF
{ "extends": "./tsconfig.test.json", "include": ["services/$NAME/src", "services/$NAME/test"] }
EOF
npx tsc -p tsconfig.new-service.json --noEmit
rm tsconfig.new-service.json

step "make setup for $NAME: database, roles, broker user"
node scripts/setup.mjs "$NAME" | grep -E "$NAME|broker|done"
node --input-type=module -e "
  import amqp from 'amqplib';
  import pg from 'pg';
  const db = new pg.Client('postgresql://${NAME}_service:${NAME}-local-only@127.0.0.1:5432/${NAME}');
  await db.connect();
  await db.query('SELECT count(*) FROM ${NAME}_points');
  await db.end();
  const connection = await amqp.connect('amqp://${NAME}:${NAME}-local-only@127.0.0.1:5672/messaging');
  await connection.close();
  console.log('${NAME}_service reads ${NAME}_points in database ${NAME}; broker user ${NAME} logs in to vhost messaging');
"

step "make up for it: scripts/services.sh start $NAME, on what setup made"
port=$(node -e "const s = require('node:net').createServer().listen(0, '127.0.0.1', () => { console.log(s.address().port); s.close(); })")
env "$(printf '%s' "$NAME" | tr '[:lower:]' '[:upper:]')_PORT=$port" scripts/services.sh start "$NAME"
curl --silent --fail --max-time 5 "http://127.0.0.1:$port/$NAME/points?customerId=nobody"
echo
# Left running: remove-service stops it.
service_pid=$(<".run/$NAME.pid")

step "its unit and integration tests (the integration ones start the whole system)"
npx jest --ci "services/$NAME/" --selectProjects unit integration

step "the workshop's lab 8 check: $NAME deployed late backfills, awards points, Order unchanged"
if [[ $NAME == loyalty ]]; then
  npx jest --ci e2e/workshop/labs.test.ts --selectProjects e2e -t 'lab 8'
fi

step "Order was not changed"
changed=$(git diff --stat -- services/order)
[[ -z $changed ]] || die "services/order changed: $changed"
echo "git diff --stat services/order: empty"

step "npm run remove-service -- $NAME (files, entries, database, roles, broker user, queues)"
node scripts/remove-service.mjs "$NAME"
generated=
if kill -0 "$service_pid" 2>/dev/null; then
  kill -TERM "$service_pid"
  die "remove-service left $NAME running (pid $service_pid)"
fi
echo "$NAME (pid $service_pid, started by services.sh) was stopped"
left=$(git status --porcelain)
[[ -z $left ]] || {
  git diff --stat
  die "remove-service left changes behind: $left"
}
echo "git status --porcelain: clean"

step "nothing of $NAME is left on the local servers"
node --input-type=module -e "
  import { execFileSync } from 'node:child_process';
  import pg from 'pg';
  const db = new pg.Client(process.env.TEST_POSTGRES_URL);
  await db.connect();
  const { rows } = await db.query(
    \"SELECT datname AS name FROM pg_database WHERE datname = \$1 UNION ALL SELECT rolname FROM pg_roles WHERE rolname IN (\$2, \$3)\",
    ['${NAME}', '${NAME}_owner', '${NAME}_service'],
  );
  await db.end();
  const rabbit = (...args) => execFileSync('rabbitmqctl', ['-q', ...args, '--formatter', 'json'], { encoding: 'utf8' });
  const users = JSON.parse(rabbit('list_users')).filter((u) => u.user === '${NAME}');
  const queues = JSON.parse(rabbit('list_queues', '-p', 'messaging', 'name')).filter((q) => q.name.startsWith('${NAME}.'));
  const left = [...rows.map((r) => r.name), ...users.map((u) => 'user ' + u.user), ...queues.map((q) => 'queue ' + q.name)];
  if (left.length > 0) { console.error('left behind: ' + left.join(', ')); process.exit(1); }
  console.log('no database, role, broker user or queue of ${NAME}');
"
