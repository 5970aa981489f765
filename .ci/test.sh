#!/usr/bin/env bash
# The README's test command: set up everything from scratch, then run every suite.
# Each suite runs even when an earlier one failed; the exit code is non-zero if any failed.
# The last line is the total over all suites: "tests: N passed, N failed, N skipped".
set -uo pipefail
cd "$(dirname "$0")/.."
bash .ci/setup.sh test || { echo "setup failed"; exit 1; }
export LOOM_PYTHON="$PWD/.venv/bin/python"

# The processes the suites start (runtimes, their agents, fixtures, code-server and its browser):
# by command line, or by the LOOM_RUNTIME mark every supervised agent carries (LOOM_COMPAT: every
# process the compat suite starts, the reference's agents included).
ours() {
  local d pid cmd
  for d in /proc/[0-9]*; do
    pid="${d#/proc/}"
    [ "$pid" = "$$" ] && continue
    cmd="$( { tr '\0' ' ' < "$d/cmdline"; } 2>/dev/null)" || continue
    [ -n "$cmd" ] || continue
    case "$cmd" in
      *dist/runtime.js*|*test/integration/fixtures*|*test/fixtures*|*loom-vscode-*|*loom-it-*|*/.cache/loom/code-server*) echo "$pid" ;;
      *) { tr '\0' '\n' < "$d/environ"; } 2>/dev/null | grep -qE '^(LOOM_RUNTIME|LOOM_COMPAT)=' && echo "$pid" ;;
    esac
  done | sort
}
# Any of those still alive after the suites (beyond the ones running before them) is a leak:
# reported with its command line, ended, and counted as a failed suite.
check_leftovers() {
  local left="" i
  for i in $(seq 1 20); do
    left="$(comm -13 <(printf '%s\n' "$before") <(ours))"
    [ -z "$left" ] && break
    sleep 0.5
  done
  printf '\n==> leftovers: processes the suites started and did not end\n'
  if [ -z "$left" ]; then echo "none"; return 0; fi
  for pid in $left; do echo "  $pid: $( { tr '\0' ' ' < "/proc/$pid/cmdline"; } 2>/dev/null)"; kill -9 "$pid" 2>/dev/null; done
  failed+=("leftovers")
  failing=$((failing + 1))
}
before="$(ours)"

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

suite typecheck npx tsc -b --noEmit
# ESLint and Prettier find problems rather than run tests (config: eslint.config.mjs, .prettierrc.json):
# a clean run counts as one passing test; each ESLint error (its summary says "N errors") and each
# file Prettier would change counts as a failing one. `bash .ci/lint-fix.sh` fixes what they can.
eslint_check() { npx eslint --max-warnings 0 . && echo "1 passing"; }
prettier_check() {
  local files rc
  files="$(npx prettier --list-different .)"; rc=$?
  [ -n "$files" ] && printf 'not formatted (npm run format):\n%s\n' "$files"
  if [ "$rc" -eq 0 ]; then echo "1 passing"; else echo "$(printf '%s\n' "$files" | grep -c . | sed 's/^0$/1/') failing"; fi
  return "$rc"
}
suite eslint eslint_check
suite prettier prettier_check
suite unit npx mocha 'test/unit/**/*.test.ts'
suite integration npx mocha --timeout 120000 'test/integration/**/*.test.ts'
suite python .venv/bin/python -m pytest -q -p no:cacheprovider sdk/python/tests
# The Python SDK's lint and types (config: sdk/python/pyproject.toml [tool.ruff], [tool.mypy]).
suite ruff .venv/bin/ruff check sdk/python
suite mypy env -C sdk/python ../../.venv/bin/mypy
# The reference's own tests, clients and apps against this runtime (test/compat/run.py).
suite compat python3 test/compat/run.py
# The stress suite's short variant (test/stress/: soak, fuzz, crash, a few seconds each); `npm run stress` runs the full one.
suite stress node --import tsx test/stress/run.ts --short
[ -f test/vscode/run.ts ] && suite vscode node --import tsx test/vscode/run.ts
[ -d test/browser ] && suite browser npx mocha --timeout 180000 'test/browser/**/*.test.ts'
check_leftovers

# CI keeps only the end of this output: repeat what each failed suite said about its failures there.
# mocha lists them after "N failing", pytest after its "= FAILURES =" rule (60 lines at most); other
# suites (typecheck, lint, compat) by the end of their log.
for name in "${failed[@]}"; do
  log="$logs/$name.log"
  [ -f "$log" ] || continue
  printf '\n==> %s: its failures again\n' "$name"
  said="$(awk '/^ *[0-9]+ failing/ || /^=+ FAILURES =+$/ {on=1} on' "$log" | head -60)"
  if [ -n "$said" ]; then printf '%s\n' "$said"; else tail -20 "$log"; fi
done

echo
[ "${#failed[@]}" -gt 0 ] && echo "FAILED suites: ${failed[*]}"
echo "tests: $passed passed, $failing failed, $skipped skipped"
[ "${#failed[@]}" -eq 0 ]
