#!/usr/bin/env bash
# The test command (`npm test`): installs the real container clients and the Docker engine if missing, makes sure
# PostgreSQL is up, typechecks, then runs every vitest test (unit tests in src/, integration tests in test/).
# Exit code = vitest's.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

log() { printf '[test.sh] %s\n' "$*" >&2; }

is_root() { [ "$(id -u)" -eq 0 ]; }

# --- System packages: the real clients used by test/real-clients ------------------------------------------------
# tool name -> Debian package name
declare -A PKG_FOR_TOOL=(
  [skopeo]=skopeo
  [podman]=podman
  [umoci]=umoci
  [buildah]=buildah
  # the browser for the console's end-to-end tests (test/browser), driven by playwright-core
  [chromium]=chromium
  # the Docker engine and CLI (/usr/bin/docker); test/real-clients/docker.test.ts starts its own dockerd. Keyed on
  # dockerd, not docker: a docker CLI alone (e.g. in /usr/local/bin) cannot run those tests.
  [dockerd]=docker.io
  # the CNCF distribution registry and htpasswd for its Basic auth: another registry for the outbound OCI client to
  # talk to (test/outbound/distribution.test.ts)
  [docker-registry]=docker-registry
  [htpasswd]=apache2-utils
  # a real Debian bookworm minbase for the scanner's end-to-end test (test/browser/scanning-debootstrap.test.ts),
  # built once from Debian's mirror and cached in /var/cache/ncr-test
  [debootstrap]=debootstrap
  # a real S3 server for the S3 driver's tests and the benchmark: Ceph's radosgw on a one-OSD cluster of its own
  # (test/helpers/radosgw.sh)
  [radosgw]=radosgw
  [ceph-mon]=ceph-mon
  [ceph-osd]=ceph-osd
  [monmaptool]=ceph-base
  [radosgw-admin]=ceph-common
)

missing_pkgs=()
for tool in "${!PKG_FOR_TOOL[@]}"; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    missing_pkgs+=("${PKG_FOR_TOOL[$tool]}")
  fi
done

if [ "${#missing_pkgs[@]}" -gt 0 ]; then
  if is_root && command -v apt-get >/dev/null 2>&1; then
    log "installing missing packages: ${missing_pkgs[*]}"
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing_pkgs[@]}"
  else
    log "WARNING: missing tools (${missing_pkgs[*]}) and not root (or no apt-get): cannot install them;"
    log "         install them yourself or the real-client tests will fail (NCR_SKIP_REAL_CLIENTS=1 skips them)."
  fi
fi

# --- Node dependencies -------------------------------------------------------------------------------------------
if [ ! -d node_modules ]; then
  log "node_modules missing: npm ci"
  npm ci
fi

# --- PostgreSQL at 127.0.0.1:5432 (the postgres half of the suite) --------------------------------------------------
pg_up() {
  if command -v pg_isready >/dev/null 2>&1; then
    pg_isready -q -h 127.0.0.1 -p 5432
  else
    # No client tools: just check the port accepts connections.
    (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null
  fi
}

# Needed unless NCR_TEST_DBS excludes postgres or NCR_TEST_PG_URL points the suite at another server.
needs_pg=1
case ",${NCR_TEST_DBS:-sqlite,postgres}," in
  *,postgres,*) needs_pg=1 ;;
  *) needs_pg=0 ;;
esac
if [ -n "${NCR_TEST_PG_URL:-}" ]; then needs_pg=0; fi

if [ "$needs_pg" -eq 1 ] && ! pg_up; then
  if is_root && command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ] && [ -n "$(ls -A /etc/postgresql 2>/dev/null)" ]; then
    pg_version="$(ls /etc/postgresql | sort -V | tail -1)"
    log "PostgreSQL not reachable at 127.0.0.1:5432; starting cluster ${pg_version}/main"
    pg_ctlcluster --skip-systemctl-redirect "$pg_version" main start || true
    for _ in $(seq 1 30); do
      pg_up && break
      sleep 1
    done
  fi
  if ! pg_up; then
    log "ERROR: PostgreSQL is not reachable at 127.0.0.1:5432."
    log "       Start it (as root: pg_ctlcluster --skip-systemctl-redirect <version> main start),"
    log "       point NCR_TEST_PG_URL at another server, or run only SQLite with NCR_TEST_DBS=sqlite."
    exit 1
  fi
fi

# --- Typecheck, then all tests -------------------------------------------------------------------------------------
log "typecheck: tsc -p tsconfig.json --noEmit"
npx tsc -p tsconfig.json --noEmit

log "lint (house layering rules): eslint src test web/src"
npx eslint src test web/src

# The console's end-to-end tests drive the built console (web/dist): build it from the current sources.
log "web console: npm run build:web"
npm run build:web >/dev/null

log "vitest run"
set +e
npx vitest run "$@"
status=$?
set -e
exit "$status"
