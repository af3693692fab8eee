# jobyard: one image for the scheduler and its site workers (`jobyard:local`, WORKER_IMAGE).
#
#   docker build -t jobyard:local .            # needs a registry for node:20-bookworm-slim and npm
#   docker run --init jobyard:local scheduler  # --init: docker-init (tini) as PID 1
#
# The image runs `node /app/bin/jobyard.js` directly: PID 1 duties (signal forwarding, zombie
# reaping) are left to the engine's init — compose sets `init: true`, the docker launcher sets
# HostConfig.Init for every site worker. BASE_IMAGE must be a glibc (Debian) Node 20 image with
# apt-get, npm and a `node` user (uid 1000); the offline `local/node-base` of
# scripts/docker-engine.sh has none of these, which is why CI builds Dockerfile.test instead.
# No `# syntax=` line: BuildKit would fetch that frontend from a registry; nothing here needs it.
ARG BASE_IMAGE=node:20-bookworm-slim

# --- build: compile TypeScript and the better-sqlite3 native addon ---------------------------
FROM ${BASE_IMAGE} AS build
WORKDIR /app
# python3/make/g++: node-gyp's fallback when no better-sqlite3 prebuild matches (or can be fetched).
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3 make g++ \
    && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
# When better-sqlite3 falls back to compiling, node-gyp uses this node's own headers (present in
# the official images under /usr/local/include/node) instead of downloading them.
RUN nodedir="$(node -p 'require("path").resolve(process.execPath, "../..")')" \
    && if [ -f "$nodedir/include/node/node.h" ]; then export npm_config_nodedir="$nodedir"; fi \
    && npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY migrations ./migrations
COPY workers ./workers
COPY scripts/bundle-worker.mjs ./scripts/bundle-worker.mjs
RUN npm run build \
    && npm prune --omit=dev \
    && rm -f dist/.tsbuildinfo \
    && node -e "new (require('better-sqlite3'))(':memory:').close()"

# --- runtime: non-root, production dependencies only -----------------------------------------
FROM ${BASE_IMAGE} AS runtime
WORKDIR /app
ENV NODE_ENV=production \
    DATABASE_URL=sqlite:/data/jobyard.db
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY bin ./bin
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
ENTRYPOINT ["node", "/app/bin/jobyard.js"]
CMD ["scheduler"]
