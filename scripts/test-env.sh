#!/usr/bin/env bash
# What the test suite needs besides node_modules (run by `npm test` as its pretest step, and so
# by CI): a PostgreSQL on 127.0.0.1:5432, the compiled dist/ (worker and CLI child processes run
# it), a Docker Engine, the offline worker image `jobyard-worker:test` and the Debian programs the
# tests drive (scripts/test-packages.sh). Idempotent and quick
# when everything is already there.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-postgres.sh
bash scripts/test-packages.sh
npm run --silent build
bash scripts/docker-engine.sh
bash scripts/build-worker-image.sh
