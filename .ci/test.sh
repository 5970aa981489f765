#!/usr/bin/env bash
# The README's test command: set up everything from scratch, then run every suite.
# Each suite runs even when an earlier one failed; the exit code is non-zero if any failed.
# The last line is the total over all suites: "tests: N passed, N failed, N skipped".
set -uo pipefail
cd "$(dirname "$0")/.."
bash .ci/setup.sh test || { echo "setup failed"; exit 1; }
export LOOM_PYTHON="$PWD/.venv/bin/python"

logs="$(mktemp -d)"
trap 'rm -rf "$logs"' EXIT
failed=() passed=0 failing=0 skipped=0
count() { grep -Eo "[0-9]+ $1" "$2" | tail -1 | grep -Eo '^[0-9]+' || echo 0; }
suite() {
  local name="$1"; shift
  printf '\n==> suite: %s\n' "$name"
  local log="$logs/$name.log"
  "$@" 2>&1 | tee "$log"
  local rc="${PIPESTATUS[0]}"
  # mocha: "N passing / N failing / N pending"; pytest: "N passed, N failed, N skipped"
  passed=$((passed + $(count passing "$log") + $(count passed "$log")))
  failing=$((failing + $(count failing "$log") + $(count failed "$log") + $(count error "$log")))
  skipped=$((skipped + $(count pending "$log") + $(count skipped "$log")))
  if [ "$rc" -eq 0 ]; then echo "suite $name: ok"; else echo "suite $name: FAILED (exit $rc)"; failed+=("$name"); fi
}

suite typecheck npx tsc -p . --noEmit
suite unit npx mocha 'test/unit/**/*.test.ts'
suite integration npx mocha --timeout 120000 'test/integration/**/*.test.ts'
suite python .venv/bin/python -m pytest -q -p no:cacheprovider sdk/python/tests
[ -f test/vscode/run.ts ] && suite vscode node --import tsx test/vscode/run.ts
[ -d test/browser ] && suite browser npx mocha --timeout 180000 'test/browser/**/*.test.ts'

echo
[ "${#failed[@]}" -gt 0 ] && echo "FAILED suites: ${failed[*]}"
echo "tests: $passed passed, $failing failed, $skipped skipped"
[ "${#failed[@]}" -eq 0 ]
