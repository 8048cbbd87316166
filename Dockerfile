# Trialog's server image. Build: `docker build -t trialog .`; run it next to EventStoreDB with
# `docker compose up` (docker-compose.yml), or alone on the embedded SQLite store:
#   docker run -p 4000:4000 -v trialog-data:/data trialog
# CI cannot run Docker: .ci/check-image-start.ts runs this file's ENTRYPOINT and CMD, with its ENV,
# outside a container (as PID 1 of a PID namespace of its own) and runs its HEALTHCHECK; keep them in
# the simple exec forms it reads.

# One base for both stages: better-sqlite3 is a native module, built here against the same Node and
# the same C library it runs with.
ARG NODE_IMAGE=node:22-bookworm-slim

FROM ${NODE_IMAGE} AS build
# node-gyp's toolchain, for better-sqlite3 when no prebuilt binary fits.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
# Dependencies first, so that a change to the sources does not rebuild them. --ignore-scripts skips
# the package's own prepare (the sources are not here yet); npm rebuild then runs the dependencies'
# install scripts (better-sqlite3's native build among them).
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund \
 && npm rebuild
COPY tsconfig.json tsconfig.build.json ./
COPY bin bin
COPY src src
COPY projections projections
COPY dashboard dashboard
# The server and the CLI into dist/, the dashboard into dashboard/dist/; then only what runs stays.
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund

FROM ${NODE_IMAGE}
# tini as PID 1: the kernel applies no default action to a signal PID 1 has no handler for, so a
# Node PID 1 would ignore `docker stop`'s SIGTERM until its own handlers are installed (they are
# only once the server serves) and would not reap orphaned processes. tini forwards the signal to
# Node, which is then an ordinary process: its handlers drain and close; before them, it just ends.
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/* \
 && mkdir /data \
 && chown node:node /data
WORKDIR /app
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/dashboard/dist ./dashboard/dist
COPY --from=build /app/bin ./bin
# `docker compose exec trialog trialog keys list` and the like.
RUN ln -s /app/bin/trialog.mjs /usr/local/bin/trialog

ENV HOST=0.0.0.0 \
    PORT=4000 \
    TRIALOG_DB=/data/trialog.db
# The event log (SQLite) or the read models (with EVENTSTORE_URL), and admin.key beside them: the
# server writes a bootstrap admin key there on its first start when no key exists (see the README).
VOLUME ["/data"]
EXPOSE 4000
USER node

# Liveness, with the image's own Node (the slim image has no curl); PORT as the container has it.
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + process.env.PORT + '/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]

ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "dist/src/main.js"]
