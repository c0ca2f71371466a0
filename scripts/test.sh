#!/usr/bin/env bash
# The test command: set-up, typecheck, lint, then every test (unit, integration with real
# PostgreSQL / Prometheus / Alertmanager / snmpsim / Chromium, and end to end).
# Extra arguments go to jest, e.g. `bash scripts/test.sh exporter`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$PWD/node_modules/.bin:$PATH"   # Node.js 24 from the `node` dev dependency
mkdir -p .tmp

echo "== typecheck (tsc -b)"
tsc -b
echo "== lint (eslint)"
eslint . --max-warnings=0
echo "== tests (jest)"
status=0
NODE_OPTIONS="--experimental-vm-modules --no-warnings=ExperimentalWarning" \
  jest --json --outputFile=.tmp/jest-results.json "$@" || status=$?
node -e '
  const r = JSON.parse(require("fs").readFileSync(".tmp/jest-results.json", "utf8"));
  const skipped = r.numPendingTests + r.numTodoTests;
  console.log(`tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${skipped} skipped`);
  const slowest = r.testResults
    .map((t) => [(t.endTime - t.startTime) / 1000, t.name.slice(process.cwd().length + 1)])
    .sort((a, b) => b[0] - a[0])
    .slice(0, 10);
  console.log("ten slowest test files (s):");
  for (const [seconds, file] of slowest) console.log(`  ${seconds.toFixed(1).padStart(6)}  ${file}`);
' || true
exit "$status"
