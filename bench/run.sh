#!/usr/bin/env bash
# `npm run bench`: ncr against CNCF distribution (Debian's docker-registry) on this machine, side by side.
# Installs the peer when missing (its packaged service is stopped: the benchmark starts its own instance on a free
# loopback port), builds ncr when dist/ is missing, runs the driver, and removes every server and temp dir it made,
# also on failure or Ctrl-C.
#   bash bench/run.sh              the benchmark (table on stdout, bench/RESULTS.md on a full run)
#   bash bench/run.sh profile ID…  CPU profiles of ncr for the given scenarios (see bench/README.md)
# Knobs (environment): BENCH_QUICK=1, BENCH_ROUNDS, BENCH_WINDOW, BENCH_ONLY, BENCH_SCALE=0, BENCH_SCALE_PEER=0, …
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

log() { printf '[bench/run.sh] %s\n' "$*" >&2; }

mode=bench
if [ "${1:-}" = profile ]; then
  mode=profile
  shift
fi

# --- The peer: Debian's docker-registry (CNCF distribution 2.8) -------------------------------------------------
peer_bin="${BENCH_PEER_BIN:-docker-registry}"
if ! command -v "$peer_bin" >/dev/null 2>&1; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    log "installing the peer: apt-get install docker-registry"
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y docker-registry
    # The package may start its own service on :5000 (with htpasswd auth); the benchmark runs its own instance.
    if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
      systemctl disable --now docker-registry >/dev/null 2>&1 || true
    elif [ -x /etc/init.d/docker-registry ] && [ -f /var/run/docker-registry.pid ]; then
      /etc/init.d/docker-registry stop >/dev/null 2>&1 || true
    fi
  else
    log "ERROR: '$peer_bin' (Debian package docker-registry) is missing and this is not root with apt-get: install it first."
    exit 1
  fi
fi

# --- ncr ---------------------------------------------------------------------------------------------------------
if [ ! -d node_modules ]; then
  log "node_modules missing: npm ci"
  npm ci
fi
if [ ! -f dist/cli/main.js ]; then
  log "dist/ missing: npm run build"
  npm run build
elif [ -n "$(find src -name '*.ts' -newer dist/cli/main.js -print -quit)" ]; then
  log "src/ is newer than dist/: npm run build"
  npm run build
fi

# --- Run the driver in its own process group; whatever happens, end that group and remove the scratch dir --------
BENCH_TMP="$(mktemp -d "${TMPDIR:-/tmp}/ncr-bench.XXXXXX")"
export BENCH_TMP
driver_pid=""

cleanup() {
  local status=$?
  trap - EXIT INT TERM
  if [ -n "$driver_pid" ] && kill -0 "$driver_pid" 2>/dev/null; then
    kill -TERM -- "-$driver_pid" 2>/dev/null || true
    for _ in $(seq 1 50); do
      kill -0 "$driver_pid" 2>/dev/null || break
      sleep 0.1
    done
  fi
  # the servers are children in the same group: make sure none outlives the run
  if [ -n "$driver_pid" ]; then kill -KILL -- "-$driver_pid" 2>/dev/null || true; fi
  rm -rf "$BENCH_TMP"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

entry=bench/main.ts
[ "$mode" = profile ] && entry=bench/profile.ts

set -m # the driver gets its own process group, so cleanup can end it and every server it started
node --import tsx "$entry" "$@" &
driver_pid=$!
set +m
set +e
wait "$driver_pid"
status=$?
set -e
exit "$status"
