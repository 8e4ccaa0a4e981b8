# syntax=docker/dockerfile:1
# The one image recipe of every Node process: each service and the gateway. The build context is the
# repository root (root .dockerignore) and SERVICE names the process (services/<name>, or gateway):
#   docker build --build-arg SERVICE=intake -t crm-intake .
#   podman build --isolation chroot --build-arg SERVICE=gateway -t crm-gateway .
# skaffold.yaml passes SERVICE per artifact; npm test's `images` step (tools/src/images, test/images)
# builds all of them for real on a base assembled from Debian and npm packages
# (BASE_IMAGE=localhost/crm-node-base:<node version>) and starts each from its filesystem.
# charts/crm/README.md ("Images") explains the choices (bundle, production dependencies, user, signals).
#
# Caching: `manifests` and `build` do not declare SERVICE, so their layers (the full `npm ci`, the
# generated contracts) are the same for every process and built once; SERVICE comes in as late as
# possible (web, bundle, deps, the runtime's last layers).
ARG BASE_IMAGE=node:20.20-bookworm-slim

# Only the package manifests and the lockfile: the dependency layers below stay cached until one changes.
FROM ${BASE_IMAGE} AS manifests
WORKDIR /src
COPY . .
RUN mkdir /manifests \
 && find . -name package.json -not -path '*/node_modules/*' -exec cp --parents {} /manifests/ \; \
 && cp package-lock.json /manifests/

# Every workspace with its dev dependencies, and the contracts generated from proto/. `npm ci` keeps
# npm's cache in a cache mount, and trusts the certificate authorities of the optional build secret
# `npm_ca` (a PEM bundle: `--secret id=npm_ca,src=$NODE_EXTRA_CA_CERTS` where the machine's network
# needs one); secrets never end up in a layer.
FROM ${BASE_IMAGE} AS build
WORKDIR /src
COPY --from=manifests /manifests/ ./
RUN --mount=type=cache,target=/root/.npm --mount=type=secret,id=npm_ca \
    { [ ! -f /run/secrets/npm_ca ] || export NODE_EXTRA_CA_CERTS=/run/secrets/npm_ca; } \
 && npm ci --prefer-offline --ignore-scripts --no-audit --no-fund
COPY . .
RUN npm run generate

# The gateway's extra: the web UI (web/dist, served from WEB_DIST_DIR=/app/web). Dockerfile has no
# "if" between stages, and a stage chosen by name (`FROM web-${SERVICE}`) would need one stage per
# process; so this stage is always part of the build (BuildKit and buildah alike) and builds the UI only
# when SERVICE=gateway. For every other process it is one `mkdir`, and the runtime copies nothing of it.
FROM build AS web
ARG SERVICE
RUN mkdir /extras \
 && if [ "$SERVICE" = gateway ]; then npm run build -w @crm/web && cp -r web/dist /extras/web; fi

# The process's bundle (dist/<name>/main.js, dist/<name>/migrate.js and what they read at run time; see
# the script). CMD cannot expand a build argument, so /out/main.js is a link to dist/<name>/main.js
# (Node runs the file it points to: paths inside the bundle stay relative to dist/<name>/).
FROM build AS bundle
ARG SERVICE
RUN test -n "$SERVICE" || { echo 'SERVICE (--build-arg SERVICE=<name>) is required' >&2; exit 1; }
RUN node tools/scripts/k8s-bundle.mjs "$SERVICE" /out \
 && ln -s "dist/$SERVICE/main.js" /out/main.js

# The npm packages the bundle requires: this process's production dependencies only, exactly as
# locked. The workspace links (@crm/*) are dropped: their code is inside the bundle.
FROM ${BASE_IMAGE} AS deps
WORKDIR /deps
COPY --from=manifests /manifests/ ./
ARG SERVICE
RUN --mount=type=cache,target=/root/.npm --mount=type=secret,id=npm_ca \
    { [ ! -f /run/secrets/npm_ca ] || export NODE_EXTRA_CA_CERTS=/run/secrets/npm_ca; } \
 && npm ci --omit=dev --prefer-offline --ignore-scripts --no-audit --no-fund --workspace "@crm/$SERVICE" \
 && rm -rf node_modules/@crm

# Runtime: Node and the files above, owned by root and read-only to the unprivileged user (uid 1000).
# No npm, no shell tools needed; Node is PID 1 and the process drains on SIGTERM itself. GRPC_PORT is
# read by the services, WEB_DIST_DIR by the gateway (which listens on HTTP_PORT, 8080 by default);
# each process ignores the other's variable, and the chart sets the port of each anyway.
FROM ${BASE_IMAGE} AS runtime
RUN rm -rf /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/corepack /opt/yarn-* \
    /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack /usr/local/bin/yarn /usr/local/bin/yarnpkg
ENV NODE_ENV=production \
    NODE_OPTIONS=--enable-source-maps \
    KAFKAJS_NO_PARTITIONER_WARNING=1 \
    GRPC_PORT=50051 \
    WEB_DIST_DIR=/app/web
WORKDIR /app
ARG SERVICE
LABEL org.opencontainers.image.title="crm-${SERVICE}"
COPY --from=deps /deps/node_modules ./node_modules
COPY --from=bundle /out/ ./
COPY --from=web /extras/ ./
USER 1000:1000
CMD ["node", "main.js"]
