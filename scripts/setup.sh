#!/usr/bin/env bash
# Installs everything ispmon needs on a fresh Debian machine, idempotently:
# Debian packages (real servers for the lab and the tests), Node.js 24 (from the npm
# registry's `node` package, as a dev dependency) and the npm workspaces (npm ci).
set -euo pipefail
cd "$(dirname "$0")/.."

DEBIAN_PACKAGES=(
  postgresql            # alert history and billing; tests start their own servers
  prometheus            # prometheus + promtool
  prometheus-alertmanager  # alertmanager + amtool
  prometheus-snmp-exporter # the peer the exporter benchmark compares against
  snmpd snmp snmpsim    # SNMP lab: live agent, client tools, recorded real devices
  chromium              # SLA PDFs via puppeteer-core (no browser download)
  poppler-utils         # pdftotext / pdftoppm for report tests
  python3-librouteros   # an independent RouterOS API client for the simulator's tests
  iproute2 iputils-ping # probe targets in network namespaces; the lab's own checks
  fping                 # the exporter's ICMP probes: many targets from one process (loop mode)
  prometheus-smokeping-prober # the peer bench:probes compares against
  victoria-metrics      # the global query layer the sharding test remote_writes to
  docker-compose        # `docker-compose config -q` validates docker-compose.yml without a daemon
  fonts-dejavu-core     # a font for Chromium's PDFs
)

missing=()
for pkg in "${DEBIAN_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  echo "setup: installing Debian packages: ${missing[*]}"
  SUDO=""
  if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # The packages start system services we do not use; the lab and tests run their own instances.
  for svc in prometheus prometheus-alertmanager prometheus-snmp-exporter prometheus-smokeping-prober snmpd postgresql victoria-metrics; do
    $SUDO systemctl disable --now "$svc" >/dev/null 2>&1 || $SUDO service "$svc" stop >/dev/null 2>&1 || true
  done
fi

# Install node_modules when absent or older than the lock file.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ] \
  || [ ! -x node_modules/.bin/node ]; then
  echo "setup: npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi

node_version="$(node_modules/.bin/node -v)"
case "$node_version" in
  v24.*) ;;
  *) echo "setup: expected Node.js 24 in node_modules/.bin/node, found $node_version" >&2; exit 1 ;;
esac
echo "setup: ready (Node.js $node_version)"
