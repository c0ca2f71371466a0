#!/usr/bin/env bash
# The main job: the lab/demo stack. Installs what it needs, builds, then starts everything and prints
# every address, port and credential. Ctrl-C stops it and removes everything it made.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$PWD/node_modules/.bin:$PATH"
tsc -b
# The demo runs in a process group of its own (job control), so Ctrl-C reaches only this script, which
# passes it on as one SIGTERM: the demo then stops its servers and probe responders itself, in order,
# instead of every child getting the terminal's SIGINT at once (Python tracebacks, half-done cleanup).
set -m
node demo/dist/main.js "$@" &
demo=$!
trap 'kill -TERM "$demo" 2>/dev/null || true' INT TERM HUP
status=0
while kill -0 "$demo" 2>/dev/null; do
  status=0
  wait "$demo" || status=$? # a trapped signal interrupts wait; the loop waits again until the demo exits
done
exit "$status"
