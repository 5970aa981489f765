#!/usr/bin/env bash
# The README's main command: set up, then run the headless runtime on examples/quickstart with
# its Python agents, printing every event as it flows. Ctrl+C stops it cleanly.
set -euo pipefail
cd "$(dirname "$0")/.."
bash .ci/setup.sh core
export LOOM_PYTHON="$PWD/.venv/bin/python"
exec node dist/runtime.js --workspace "${LOOM_EXAMPLE:-examples/quickstart}" --print-events "${@}"
