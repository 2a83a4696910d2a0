# syntax=docker/dockerfile:1
# One image for every service; SERVICE picks the default command.
#   docker build --build-arg SERVICE=order -t amr/order .
#   docker run amr/order                                  # runs services/order/dist/main.js
#   docker run amr/order node scripts/prisma.mjs migrate  # applies every service's migrations
# The image runs the same entry points as `make up`, so the tested local path covers it.

ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS base
WORKDIR /app
# Prisma's update check would call out to the internet on every CLI run.
ENV CHECKPOINT_DISABLE=1 \
    NPM_CONFIG_AUDIT=false \
    NPM_CONFIG_FUND=false \
    NPM_CONFIG_UPDATE_NOTIFIER=false

# Only the manifests, so the dependency layers are rebuilt only when they change.
FROM base AS manifests
COPY package.json package-lock.json ./
COPY shared/contracts/package.json shared/contracts/
COPY shared/runtime/package.json shared/runtime/
COPY shared/messaging/package.json shared/messaging/
COPY shared/http/package.json shared/http/
COPY shared/service/package.json shared/service/
COPY shared/testing/package.json shared/testing/
COPY services/order/package.json services/order/
COPY services/invoicing/package.json services/invoicing/
COPY services/shipping/package.json services/shipping/
COPY services/statistics/package.json services/statistics/
COPY demo/package.json demo/

FROM manifests AS deps
RUN npm ci

FROM deps AS build
COPY tsconfig.base.json ./
COPY scripts ./scripts
COPY infra ./infra
COPY shared ./shared
COPY services ./services
COPY demo ./demo
RUN npm run build
# Gather exactly what the runtime needs: manifests, compiled code, Prisma schemas,
# migrations and configs, and the migration runner.
RUN set -eu; \
    mkdir -p /out/scripts; \
    cp scripts/prisma.mjs scripts/broker-setup.mjs /out/scripts/; \
    mkdir -p /out/infra && cp -r infra/rabbitmq /out/infra/; \
    for pkg in shared/* services/* demo; do \
      mkdir -p "/out/$pkg"; \
      cp -r "$pkg/package.json" "$pkg/dist" "/out/$pkg/"; \
    done; \
    for svc in services/*; do \
      cp -r "$svc/prisma" "$svc/prisma.config.ts" "/out/$svc/"; \
    done

# Production dependencies. The Prisma CLI comes along as a peer dependency of
# @prisma/client; `migrate` needs it, so the build fails here if it ever goes missing.
FROM manifests AS prod-deps
RUN npm ci --omit=dev && test -x node_modules/.bin/prisma

FROM base AS runtime
ENV NODE_ENV=production
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /out/ ./
COPY package.json ./
ARG SERVICE
ENV SERVICE=${SERVICE}
USER node
# exec replaces the shell, so node itself receives SIGTERM and can shut down gracefully.
CMD ["sh", "-c", "if [ -z \"$SERVICE\" ]; then echo 'build with --build-arg SERVICE=<order|invoicing|shipping|statistics>' >&2; exit 64; fi; exec node \"services/$SERVICE/dist/main.js\""]
