#!/usr/bin/env bash
# Builds the test/CI worker image `jobyard-worker:test` from Dockerfile.test (see that file).
# Needs a running engine with `local/node-base` (scripts/docker-engine.sh) and a built dist/
# (`npm run build`). Skips the build when the image already carries the same input hash.
#
# The context is a tar stream of exactly what Dockerfile.test copies: package.json, bin/, dist/
# and the production dependencies in node_modules/ (`npm ls --omit=dev`), minus better-sqlite3's
# sources and intermediate build files. Streaming works with the legacy builder and BuildKit
# alike; a per-Dockerfile ignore file (Dockerfile.test.dockerignore) would only work with BuildKit.
#
# Environment: WORKER_TEST_IMAGE (jobyard-worker:test), NODE_BASE_IMAGE (local/node-base),
# FORCE=1 to rebuild regardless of the hash.
set -euo pipefail
cd "$(dirname "$0")/.."

IMAGE="${WORKER_TEST_IMAGE:-jobyard-worker:test}"
BASE_IMAGE="${NODE_BASE_IMAGE:-local/node-base}"
log() { printf '[build-worker-image] %s\n' "$*"; }
now_ms() { date +%s%3N; }

[ -f dist/src/cli/main.js ] && [ -f dist/worker/jobyard-worker.mjs ] \
  || { echo "dist/ (or its worker bundle) is missing: run \`npm run build\` first" >&2; exit 1; }
[ -d node_modules/better-sqlite3 ] || { echo "node_modules/ is missing: run \`npm ci\` first" >&2; exit 1; }
base_id="$(docker image inspect -f '{{.Id}}' "$BASE_IMAGE" 2>/dev/null)" \
  || { echo "base image $BASE_IMAGE is missing: run \`bash scripts/docker-engine.sh\` first" >&2; exit 1; }

# Top-level production packages only (a nested package travels inside its parent's folder).
mapfile -t modules < <(npm ls --omit=dev --all --parseable 2>/dev/null \
  | sed "s|^$PWD/||" | grep -E '^node_modules/(@[^/]+/)?[^/]+$' | sort -u)
[ "${#modules[@]}" -gt 0 ] || { echo "npm ls found no production dependencies in node_modules/" >&2; exit 1; }

excludes=(
  --exclude=node_modules/better-sqlite3/deps
  --exclude=node_modules/better-sqlite3/src
  --exclude=node_modules/better-sqlite3/build/deps
  --exclude=node_modules/better-sqlite3/build/Release/obj
  --exclude=node_modules/better-sqlite3/build/Release/obj.target
  --exclude=node_modules/better-sqlite3/build/Release/.deps
  --exclude=node_modules/better-sqlite3/build/Release/sqlite3.a
  --exclude=node_modules/better-sqlite3/build/Release/test_extension.node
  --exclude=dist/.tsbuildinfo
)
inputs=(Dockerfile.test package.json bin dist "${modules[@]}")

# Input hash: file names, sizes and contents of everything streamed, plus the base image id.
hash="$( {
  echo "base $base_id"
  tar -c "${excludes[@]}" --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner "${inputs[@]}" | sha256sum
} | sha256sum | cut -c1-32)"

if [ "${FORCE:-0}" != "1" ] && [ "$(docker image inspect -f '{{index .Config.Labels "jobyard.inputs"}}' "$IMAGE" 2>/dev/null)" = "$hash" ]; then
  log "$IMAGE is up to date (inputs $hash)"
  exit 0
fi

t0=$(now_ms)
tar -c "${excludes[@]}" "${inputs[@]}" \
  | docker build -q -f Dockerfile.test \
      --build-arg "BASE_IMAGE=$BASE_IMAGE" \
      --label "jobyard.inputs=$hash" \
      -t "$IMAGE" - >/dev/null
# The image this one replaced is left dangling: drop it (only ours, by label).
docker image prune -f --filter label=jobyard.inputs >/dev/null
log "built $IMAGE ($(docker image inspect -f '{{.Size}}' "$IMAGE") bytes) in $(( $(now_ms) - t0 )) ms"
