#!/usr/bin/env bash
# Installs what the demo and the tests need, only what is missing: Debian packages for the real servers the
# tests start (Redis and Sentinel, Prometheus, Alertmanager, PostgreSQL, HAProxy, nginx-rtmp and ffmpeg), the
# Chromium the queue UI's browser test drives and docker-compose (v1, to validate docker-compose.yml offline; no
# Docker engine), then the npm dependencies.
set -euo pipefail
cd "$(dirname "$0")/.."

# binary → Debian package
declare -A packages=(
  [redis-server]=redis-server
  [prometheus]=prometheus
  [promtool]=prometheus
  [prometheus-alertmanager]=prometheus-alertmanager
  [amtool]=prometheus-alertmanager
  [redis-sentinel]=redis-sentinel
  [haproxy]=haproxy
  [nginx]=nginx
  [ffmpeg]=ffmpeg
  [docker-compose]=docker-compose
  # The partition lab's faults: iptables rules inside the lab's network namespaces (tools/harness/netns.ts).
  [iptables]=iptables
)
missing=()
for binary in "${!packages[@]}"; do
  command -v "$binary" >/dev/null 2>&1 || missing+=("${packages[$binary]}")
done
# The stream exporter's tests ingest a real RTMP stream into nginx's RTMP module.
[ -f /usr/lib/nginx/modules/ngx_rtmp_module.so ] || missing+=(libnginx-mod-rtmp)
# The queue UI's browser test drives Debian's Chromium with playwright-core (which downloads no browser itself).
[ -x /usr/bin/chromium ] || missing+=(chromium)
# Debian keeps the PostgreSQL server programs (initdb, pg_ctl) off PATH, under /usr/lib/postgresql/N/bin.
if ! command -v initdb >/dev/null 2>&1 && ! compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null; then
  missing+=(postgresql)
fi
if [ ${#missing[@]} -gt 0 ]; then
  # shellcheck disable=SC2207
  missing=($(printf '%s\n' "${missing[@]}" | sort -u))
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "bootstrap: installing ${missing[*]} (apt-get)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  elif command -v apt-get >/dev/null 2>&1; then
    echo "bootstrap: missing ${missing[*]}; run as root: apt-get install --no-install-recommends ${missing[*]}" >&2
    exit 1
  else
    echo "bootstrap: missing ${missing[*]} and apt-get is not available; install these programs with your" \
      "system's package manager (Redis 7, Prometheus 2, Alertmanager 0.25+) and make sure they are on PATH" >&2
    exit 1
  fi
fi
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  # `npm install` with the committed lock file, not `npm ci`: registries that lack some platforms' optional
  # packages (msgpackr-extract's prebuilt binaries) leave them out of the lock file, and `npm ci` then refuses it.
  echo "bootstrap: installing npm dependencies"
  npm install --no-audit --no-fund --loglevel=error
fi
