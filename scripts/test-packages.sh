#!/usr/bin/env bash
# Debian packages the tests drive as real programs, installed when missing (idempotent; one
# apt-get run for all of them):
#   iproute2        network namespaces for test hosts (ip netns, veth)
#   openssh-server  sshd on those hosts (remote execution tests)
#   sudo            become on those hosts (remote execution tests)
#   ansible-core    ansible-playbook (the playbook component's tests)
#   sshpass         ansible-playbook's password logins (read from a pipe, never argv)
#   pgbouncer       a real pooler in front of the test PostgreSQL (transaction-mode tests)
#   faketime        libfaketime, to run one process with a shifted clock (one-clock tests)
#   chromium        the dashboard's browser tests (driven by playwright-core)
set -euo pipefail

log() { printf '[test-packages] %s\n' "$*"; }

declare -A probe=(
  [iproute2]="command -v ip"
  [openssh-server]="test -x /usr/sbin/sshd"
  [sudo]="command -v sudo"
  [ansible-core]="command -v ansible-playbook"
  [sshpass]="command -v sshpass"
  [pgbouncer]="test -x /usr/sbin/pgbouncer"
  [faketime]="command -v faketime"
  [chromium]="test -x /usr/bin/chromium"
)
missing=()
for pkg in "${!probe[@]}"; do
  if ! eval "${probe[$pkg]}" >/dev/null 2>&1; then missing+=("$pkg"); fi
done
if [ "${#missing[@]}" -eq 0 ]; then
  log "all present"
  exit 0
fi
log "installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# --no-install-recommends keeps chromium's and ansible's trees small; policy-rc.d stops the
# packages' own services (sshd, pgbouncer) from starting: tests start their own.
printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
trap 'rm -f /usr/sbin/policy-rc.d' EXIT
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
log "installed ${missing[*]}"
