#!/usr/bin/env bash
# The main job: the lab/demo stack with embedded defaults. Installs what it needs, builds,
# then starts everything that exists and prints every address, port and credential.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$PWD/node_modules/.bin:$PATH"
tsc -b
exec node demo/dist/main.js "$@"
