#!/usr/bin/env bash
# Makes sure a Docker Engine answers and that the offline base image `local/node-base` exists
# (idempotent: safe to run twice in a row and when dockerd is already up).
#
#   1. installs Debian's docker.io when `dockerd` is missing, and docker-compose (no other
#      registry is needed);
#   2. starts dockerd in the background when `docker info` fails (log: $DOCKERD_LOG);
#   3. waits up to $DOCKER_WAIT_SECONDS (30) for `docker info`;
#   4. builds `local/node-base` when missing: this host's node binary, /bin/sh (dash), the
#      libraries they link, NSS/resolver libraries, a minimal /etc (root + node uid/gid 1000)
#      and /tmp (1777), imported with `docker import` (no registry is reachable here);
#   5. prints the engine version.
#
# Environment: DOCKERD_LOG (default /var/log/dockerd.log), DOCKER_WAIT_SECONDS (30),
# NODE_BASE_IMAGE (local/node-base), NODE_BASE_REBUILD=1 to rebuild the base image.
set -euo pipefail

DOCKERD_LOG="${DOCKERD_LOG:-/var/log/dockerd.log}"
WAIT_SECONDS="${DOCKER_WAIT_SECONDS:-30}"
BASE_IMAGE="${NODE_BASE_IMAGE:-local/node-base}"

log() { printf '[docker-engine] %s\n' "$*"; }
# `docker info` against a wedged daemon could hang: bound every probe.
engine_up() { timeout 10 docker info >/dev/null 2>&1; }
now_ms() { date +%s%3N; }

# --- 1. install ---------------------------------------------------------------------------------
if ! command -v dockerd >/dev/null 2>&1; then
  t0=$(now_ms)
  log "installing docker.io from Debian packages"
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y -qq --no-install-recommends docker.io >/dev/null 2>&1; then
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends docker.io >/dev/null
  fi
  log "docker.io installed in $(( $(now_ms) - t0 )) ms"
fi
command -v docker >/dev/null 2>&1 || { echo "docker CLI not found after installing docker.io" >&2; exit 1; }
# docker-compose (v1, Debian's package): the tests validate compose.yaml with `docker-compose config`.
if ! command -v docker-compose >/dev/null 2>&1; then
  t0=$(now_ms)
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq --no-install-recommends docker-compose >/dev/null 2>&1 \
    || { apt-get update -qq && apt-get install -y -qq --no-install-recommends docker-compose >/dev/null; }
  log "docker-compose installed in $(( $(now_ms) - t0 )) ms"
fi

# --- 2./3. start and wait -----------------------------------------------------------------------
if ! engine_up; then
  t0=$(now_ms)
  if pgrep -x dockerd >/dev/null 2>&1; then
    log "dockerd is already starting (pid $(pgrep -x dockerd | head -n 1)); waiting for it"
  else
    log "starting dockerd (log: ${DOCKERD_LOG})"
    mkdir -p "$(dirname "$DOCKERD_LOG")"
    # setsid + nohup: the engine outlives this script and the shell/CI step that ran it.
    setsid nohup dockerd >>"$DOCKERD_LOG" 2>&1 </dev/null &
  fi
  deadline=$(( $(date +%s) + WAIT_SECONDS ))
  until engine_up; do
    if [ "$(date +%s)" -ge "$deadline" ]; then
      echo "Docker Engine did not answer within ${WAIT_SECONDS}s; last lines of ${DOCKERD_LOG}:" >&2
      tail -n 30 "$DOCKERD_LOG" >&2 || true
      exit 1
    fi
    sleep 0.2
  done
  log "engine up in $(( $(now_ms) - t0 )) ms"
fi

# --- 4. offline base image ----------------------------------------------------------------------
if [ "${NODE_BASE_REBUILD:-0}" = "1" ] || ! docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
  t0=$(now_ms)
  NODE_BIN="$(readlink -f "$(command -v node)")"
  SH_BIN="$(readlink -f "$(command -v dash || echo /bin/sh)")"
  root="$(mktemp -d /tmp/node-base.XXXXXX)"
  trap 'rm -rf "$root"' EXIT

  mkdir -p "$root/usr/bin" "$root/bin" "$root/etc" "$root/tmp" "$root/app" "$root/home/node"
  chmod 1777 "$root/tmp"
  cp -L "$NODE_BIN" "$root/usr/bin/node"
  mkdir -p "$root/usr/local/bin"
  ln -s /usr/bin/node "$root/usr/local/bin/node"
  cp -L "$SH_BIN" "$root/bin/sh"

  # copy_lib PATH: copies the file (symlinks dereferenced) to the same path in the image.
  copy_lib() {
    local src="$1"
    [ -e "$src" ] || return 0
    mkdir -p "$root$(dirname "$src")"
    cp -L "$src" "$root$src"
  }
  for bin in "$NODE_BIN" "$SH_BIN"; do
    # ldd lines: "libx.so => /lib/.../libx.so (0x...)" or "/lib64/ld-linux-x86-64.so.2 (0x...)".
    ldd "$bin" | awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^\//) print $i }' | while read -r lib; do
      copy_lib "$lib"
    done
  done
  # Name service and resolver: getpwuid (os.userInfo), DNS lookups.
  libdir="$(dirname "$(ldd "$NODE_BIN" | awk '/libc\.so/ { print $3 }')")"
  for pattern in 'libnss_files.so*' 'libnss_dns.so*' 'libresolv.so*'; do
    for lib in "$libdir"/$pattern; do copy_lib "$lib"; done
  done
  # Make sure the dynamic loader is where the ELF interpreter says (e.g. /lib64/ld-linux-x86-64.so.2).
  interp="$(readelf -l "$NODE_BIN" 2>/dev/null | sed -n 's/.*interpreter: \(.*\)]/\1/p' || true)"
  [ -n "$interp" ] && copy_lib "$interp"
  [ -e /etc/ssl/certs/ca-certificates.crt ] && copy_lib /etc/ssl/certs/ca-certificates.crt

  cat >"$root/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
node:x:1000:1000:node:/home/node:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
EOF
  cat >"$root/etc/group" <<'EOF'
root:x:0:
node:x:1000:
nogroup:x:65534:
EOF
  cat >"$root/etc/nsswitch.conf" <<'EOF'
passwd:   files
group:    files
shadow:   files
hosts:    files dns
networks: files
EOF
  printf '127.0.0.1 localhost\n::1 localhost ip6-localhost ip6-loopback\n' >"$root/etc/hosts"
  mkdir -p "$root/root"
  chown 1000:1000 "$root/home/node"
  chmod 700 "$root/root"

  tar -C "$root" -c . | docker import \
    --change 'ENV PATH=/usr/local/bin:/usr/bin:/bin' \
    --change 'ENV NODE_VERSION='"$("$NODE_BIN" -p process.versions.node)" \
    --change 'CMD ["node"]' \
    - "$BASE_IMAGE" >/dev/null
  rm -rf "$root"
  trap - EXIT
  log "imported ${BASE_IMAGE} ($(docker image inspect -f '{{.Size}}' "$BASE_IMAGE") bytes, node $("$NODE_BIN" -v)) in $(( $(now_ms) - t0 )) ms"
fi

# --- 5. report ----------------------------------------------------------------------------------
log "Docker Engine $(docker version -f '{{.Server.Version}} (API {{.Server.APIVersion}})')"
