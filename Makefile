# Local workflow. The services run from the same entry points the Docker image uses
# (node services/<name>/dist/main.js, node scripts/prisma.mjs migrate).
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

# Node 24 (package.json engines): when the machine's node is older, scripts/ensure-node.sh
# fetches it once from the npm registry into .tools/node24 and every target runs with it
# first on PATH. NODE_BIN_DIR= (empty) keeps the machine's node.
NODE_BIN_DIR ?= $(shell scripts/ensure-node.sh --print-bin-dir)
ifneq ($(NODE_BIN_DIR),)
export PATH := $(NODE_BIN_DIR):$(PATH)
endif

INSTALL_STAMP := node_modules/.install-stamp
COMPOSE ?= docker-compose
JEST_FLAGS ?= --ci
# `make demo SCENARIO=buffering` runs one scenario (comma-separate several); all by default.
SCENARIO ?= all
# RabbitMQ and Postgres: local servers when they answer, else (or with USE_CONTAINERS=1) the
# compose file's rabbitmq and postgres services, recorded in .run/containers.env until
# `make down` (scripts/servers.sh). $(SERVERS) runs a command with their addresses.
SERVERS := scripts/servers.sh run

.PHONY: help install build servers setup up down logs status test test-containers lint typecheck demo lab lab-reset new-service-check bench soak chaos cluster-up cluster-down cluster-status cluster-test compose-config observability-check compose-up compose-down compose-test clean

help: ## List the targets
	@echo "usage: make <target>"
	@echo
	@awk 'BEGIN { FS = ":.*## " } /^[a-z-]+:.*## / { printf "  %-16s %s\n", $$1, $$2 }' $(MAKEFILE_LIST)

install: $(INSTALL_STAMP) ## Install dependencies (npm ci) when node_modules is missing or stale

# npm keeps node_modules/.package-lock.json in step with what it installed: when that is
# newer than package-lock.json, node_modules is current and only the stamp is missing.
$(INSTALL_STAMP): package-lock.json
	@if [[ node_modules/.package-lock.json -nt package-lock.json ]]; then \
	  echo "node_modules is up to date"; else npm ci; fi
	@touch $@

build: install ## Generate the Prisma clients and compile every package
	npm run build

# Listed first by the targets that need the servers, so their first lines say which are used.
servers: ## Say which RabbitMQ and Postgres are used; start them in containers when none answer (USE_CONTAINERS=1 forces)
	@scripts/servers.sh ensure

setup: servers build ## Check Postgres and RabbitMQ, create the databases, apply migrations
	$(SERVERS) node scripts/setup.mjs

up: servers setup ## Start the five services and the dashboard (http://127.0.0.1:3000) in the background, wait until ready
	$(SERVERS) scripts/services.sh start

down: ## Stop the services started by `make up`, and the server containers if a target started them (volumes stay)
	scripts/services.sh stop
	scripts/servers.sh stop

logs: ## Follow the services' logs
	@if ! compgen -G ".run/logs/*.log" >/dev/null; then \
	  echo "no logs in .run/logs yet: run 'make up' first"; exit 1; fi
	tail -n 20 -F .run/logs/*.log

status: ## Show which services run and whether they are ready
	@scripts/services.sh status

# One choice of servers for the whole run, printed first (shared/testing/src/cli/run-tests.ts):
# TEST_RABBITMQ_URL/TEST_POSTGRES_URL (or the containers `make up` recorded), else one
# RabbitMQ and one Postgres container started with testcontainers where a container runtime
# answers (DESIGN section 8), else the local servers when both answer (then `make setup`'s
# set-up). TEST_SERVERS=local or TEST_SERVERS=containers forces a path. Then jest twice: the broker-stopping fault tests
# (project faults-serial) must not overlap any other test file.
test: build ## Run every test (unit, integration, end-to-end, then the serial fault tests); says first which servers
	CI=true $(SERVERS) node shared/testing/dist/cli/run-tests.js --setup -- $(JEST_FLAGS)

# TEST_CONTAINERS_ARGS picks test files (jest patterns after --); .ci/run picks a part.
TEST_CONTAINERS_ARGS ?=
test-containers: build ## Run every test on RabbitMQ and Postgres containers (testcontainers; RABBITMQ_IMAGE/POSTGRES_IMAGE as in compose), local servers ignored
	scripts/test-containers.sh -- $(JEST_FLAGS) $(TEST_CONTAINERS_ARGS)

lint: install ## ESLint and Prettier checks
	npm run lint

typecheck: build ## Type-check the packages and the tests
	npm run typecheck

# The demo makes its own vhost and databases (demo, demo_*) and starts its own service
# processes, so it needs the build but not `make setup`, and never disturbs `make up`.
demo: servers build ## Run the workshop demo: both styles, the four advantages, a report (SCENARIO=buffering runs one)
	SCENARIO="$(SCENARIO)" $(SERVERS) node demo/dist/main.js

# Workshop labs (docs/workshop): `make lab 3` checks lab 3 against the system `make up` runs.
# The lab's number is a second goal on the command line; it is made a no-op here.
ifeq (lab,$(firstword $(MAKECMDGOALS)))
  LAB := $(word 2,$(MAKECMDGOALS))
  ifneq ($(LAB),)
    $(eval $(LAB):;@:)
  endif
endif
# The build's output is shown only when it fails: the check's lines are what the attendee reads.
LAB_BUILD = mkdir -p .run && $(MAKE) --no-print-directory build >.run/lab-build.log 2>&1 \
  || { cat .run/lab-build.log; exit 1; }
lab: ## Check a workshop lab against the running system: make lab 3 (docs/workshop/labs)
	@$(LAB_BUILD)
	@node demo/dist/labs/main.js $(or $(LAB),--help)

lab-reset: ## Start a workshop lab afresh: fault switches off, every service up, the lab clock restarted
	@$(LAB_BUILD)
	@node demo/dist/labs/main.js reset

# `npm run new-service -- <name>` and `npm run remove-service -- <name>` (docs/new-service.md),
# checked end to end in a scratch copy of the tree: generate loyalty, build, lint, set up,
# start it with the others, place an order, remove it; this tree is not touched.
new-service-check: servers build ## Generate a service from the template, run it with the others, remove it (scratch copy)
	$(SERVERS) scripts/new-service-check.sh

# Like the demo, the benchmark makes its own vhost and databases (test_bench_*, dropped
# afterwards) and starts its own service processes: it needs the build, not `make setup`.
bench: build ## Measure throughput and latency end to end beside the broker and database ceilings (results/)
	node bench/dist/main.js

# A steady load in both styles (SOAK_RATE, default 80 orders/s: half the bench's saturation)
# for SOAK_MINUTES with retention windows of seconds, then the ledger and a chart of
# orders/s, p99, table sizes and RSS over time in reports/soak-<timestamp>/.
SOAK_MINUTES ?= 30
soak: build ## Run a steady load for SOAK_MINUTES (30) with cleanup running often: ledger and flat-lines chart (reports/)
	SOAK_MINUTES="$(SOAK_MINUTES)" node bench/dist/soak-main.js

# The chaos run (docs/chaos.md): CHAOS_ORDERS orders, half per style, on a system of its own
# (test_chaos_*, dropped afterwards) while a seeded driver kills services, closes their broker
# connections and cuts their Postgres; then the ledger. Seed, fault timeline and ledger are
# printed and written to reports/chaos-<timestamp>.json and .md. CHAOS_SEED=<n> replays a
# schedule. Its short form (100 orders, e2e/chaos/chaos.test.ts) runs in `make test`.
CHAOS_ORDERS ?= 1000
CHAOS_RATE ?= 5
CHAOS_SEED ?=
chaos: servers build ## Chaos run: CHAOS_ORDERS (1000) orders while services are killed, broker connections closed and Postgres cut; ledger and timeline (reports/)
	CI=true CHAOS_ORDERS="$(CHAOS_ORDERS)" CHAOS_RATE="$(CHAOS_RATE)" CHAOS_SEED="$(CHAOS_SEED)" \
	  CHAOS_REPORTS_DIR=reports CHAOS_PROGRESS=1 \
	  $(SERVERS) npx jest e2e/chaos --selectProjects e2e $(JEST_FLAGS)

# Three RabbitMQ nodes beside the machine's broker (rabbit-a/b/c@localhost, AMQP 5681-5683,
# management 15681-15683, data in .run/cluster; docs/cluster.md). `make cluster-test` runs the
# full failover test (CLUSTER_ORDERS orders, two instances of the consumers and of Order)
# with its report in reports/cluster-<time>/; it starts the cluster if none runs and, then,
# removes it even when a step fails. Its short form runs in `make test`.
CLUSTER_ORDERS ?= 1000
cluster-up: ## Start the three-node RabbitMQ cluster (rabbit-a/b/c, ports 5681-5683) with the messaging vhost and users
	scripts/cluster.sh up

cluster-down: ## Stop exactly the three cluster nodes and delete .run/cluster (the machine's broker untouched)
	scripts/cluster.sh down

cluster-status: ## Show the cluster's nodes and the RABBITMQ_URL listing them
	scripts/cluster.sh status

cluster-test: servers build ## Failover under traffic: CLUSTER_ORDERS (1000) orders, leader node stopped and started, a second node stopped; ledger and report (reports/)
	@started=0; if ! scripts/cluster.sh ctl -n rabbit-a@localhost -q ping >/dev/null 2>&1; then started=1; fi; \
	  trap 'if [[ $$started == 1 ]]; then scripts/cluster.sh down; fi' EXIT; \
	  CI=true CLUSTER_ORDERS="$(CLUSTER_ORDERS)" CLUSTER_FULL=1 CLUSTER_REPORTS_DIR=reports \
	  $(SERVERS) npx jest e2e/cluster --selectProjects faults-serial --runInBand $(JEST_FLAGS)

compose-config: ## Validate docker-compose.yml (no Docker engine needed)
	$(COMPOSE) -f docker-compose.yml config -q

observability-check: ## Validate the observability profile: promtool check config (Debian's prometheus package) and compose
	promtool check config infra/observability/prometheus.yml
	$(COMPOSE) -f docker-compose.yml --profile observability config -q

# The compose targets need no npm install: everything is built inside the images. On the
# project's machines they install and start a Docker engine when none answers and build
# stand-ins for the official base images (docs/docker.md). Ports: ORDER_PORT=..., etc.
compose-up: ## Docker: build the images, start everything in containers, wait until healthy
	scripts/docker/compose.sh up

compose-down: ## Docker: stop and remove the containers (data volumes stay; see README)
	scripts/docker/compose.sh down

compose-test: ## Docker: throw-away compose system, both styles end to end, demo; torn down after
	scripts/docker/compose.sh test

clean: ## Remove build output, generated clients, logs and coverage; offer to remove the server containers' volumes
	@if compgen -G ".run/*.pid" | grep -qv dockerd.pid || [[ -f .run/containers.env ]]; then \
	  echo "services or server containers may still be running: run 'make down' first"; exit 1; fi
	@scripts/servers.sh clean
	rm -rf shared/*/dist services/*/dist services/*/src/generated .run coverage
	find . -name '*.tsbuildinfo' -not -path './node_modules/*' -delete
