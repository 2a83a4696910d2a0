# Two images from one file, both with the same entry points as `make up`:
#   service (the default target): one lean image for the four services, production
#     dependencies of services/* only. SERVICE picks the command:
#       docker build --build-arg SERVICE=order -t amr/order .
#   tools: every workspace compiled, with the Prisma CLI: migrations and the demo.
#       docker build --target tools -t amr/tools .
#       docker run amr/tools node scripts/prisma.mjs migrate
# Nothing here lists the workspaces: scripts/docker/workspaces.mjs reads them from the root
# package.json, so a new workspace is installed, compiled and shipped without an edit here
# (`npm run lint:docker` checks that it stays so).
#
# Behind a proxy that re-signs TLS (or on the project's machines), pass the extra CA as a
# build secret; it is used by npm and never stored in a layer:
#   docker build --network host --secret id=ca,src=$NODE_EXTRA_CA_CERTS ...
# (No `# syntax=` line on purpose: it makes BuildKit fetch its frontend from Docker Hub.)

ARG NODE_IMAGE=node:24-bookworm-slim

FROM ${NODE_IMAGE} AS base
# Lets `make compose-test` prune exactly the images of this project that a rebuild orphaned.
LABEL amr.project=async-messaging-reference
WORKDIR /app
# Prisma's update check would call out to the internet on every CLI run.
ENV CHECKPOINT_DISABLE=1 \
    NPM_CONFIG_AUDIT=false \
    NPM_CONFIG_FUND=false \
    NPM_CONFIG_UPDATE_NOTIFIER=false

# The manifests of the root and of every workspace, extracted from the source tree. The next
# stages copy only this folder, so their `npm ci` layers are rebuilt only when a manifest or
# the lockfile changes, not on every source edit.
FROM base AS manifests-src
COPY . /src
RUN node /src/scripts/docker/workspaces.mjs manifests /src /manifests

# Every dependency, dev included: the build.
FROM base AS deps
COPY --from=manifests-src /manifests/ ./
RUN --mount=type=secret,id=ca --mount=type=cache,target=/root/.npm \
    if [ -s /run/secrets/ca ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/ca; fi; \
    npm ci

# Compiles what `npm run build` compiles: every workspace (the tools image ships them all).
FROM deps AS build
COPY . .
RUN npm run build
# What the runtime needs of each workspace (manifest, dist, Prisma schema and migrations),
# plus scripts/ and infra/rabbitmq: all workspaces for tools, services/* and the workspaces
# they depend on for the service image. Fails if a workspace was not compiled.
RUN node scripts/docker/workspaces.mjs gather . /out/tools \
 && node scripts/docker/workspaces.mjs gather . /out/service --services

# Production dependencies of every workspace, with the Prisma CLI (an optional peer of
# @prisma/client that `migrate` needs: the build fails here if it ever goes missing).
FROM base AS tools-deps
COPY --from=manifests-src /manifests/ ./
RUN --mount=type=secret,id=ca --mount=type=cache,target=/root/.npm \
    if [ -s /run/secrets/ca ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/ca; fi; \
    npm ci --omit=dev && test -x node_modules/.bin/prisma

# Production dependencies of services/* and the workspaces they use, nothing else: no vega,
# resvg, testcontainers, TypeScript or Prisma CLI (--omit=optional drops the CLI, an
# optional peer of @prisma/client). The list comes from the manifests, so this layer too is
# rebuilt only when a manifest changes. The generated Prisma clients load runtime/client and
# the PostgreSQL query compiler only: the other databases' engines and the source maps go.
FROM base AS service-deps
COPY --from=manifests-src /manifests/ ./
COPY scripts/docker/workspaces.mjs /tmp/workspaces.mjs
RUN --mount=type=secret,id=ca --mount=type=cache,target=/root/.npm \
    if [ -s /run/secrets/ca ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/ca; fi; \
    set -e; \
    workspaces=$(node /tmp/workspaces.mjs list --services | sed 's/^/--workspace=/'); \
    npm ci --omit=dev --omit=optional --include-workspace-root=false $workspaces; \
    test ! -e node_modules/.bin/prisma; test ! -e node_modules/typescript; \
    find node_modules/@prisma/client/runtime \( -name '*.map' -o -name 'query_engine_bg.*' \
      -o -name 'query_compiler_bg.mysql.*' -o -name 'query_compiler_bg.sqlite.*' \
      -o -name 'query_compiler_bg.sqlserver.*' -o -name 'query_compiler_bg.cockroachdb.*' \) -delete

FROM base AS tools
ENV NODE_ENV=production
COPY --from=tools-deps /app/ ./
COPY --from=build /out/tools/ ./
# `docker compose run` of the demo may run as the invoking user (REPORT_UID): the report
# folder is a bind mount, so nothing else in /app needs to be writable for that user.
USER node
CMD ["node", "scripts/prisma.mjs", "migrate"]

FROM base AS service
ENV NODE_ENV=production
COPY --from=service-deps /app/ ./
COPY --from=build /out/service/ ./
COPY docs/asyncapi.yaml docs/asyncapi.html docs/openapi.json ./docs/
ARG SERVICE
ENV SERVICE=${SERVICE}
USER node
# exec replaces the shell, so node itself receives SIGTERM and can shut down gracefully.
CMD ["sh", "-c", "if [ -z \"$SERVICE\" ]; then echo 'build with --build-arg SERVICE=<order|invoicing|shipping|statistics>, or set SERVICE' >&2; exit 64; fi; exec node \"services/$SERVICE/dist/main.js\""]
