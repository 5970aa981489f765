#!/usr/bin/env bash
# Installs what Loom needs on a fresh machine, idempotently:
#   core   — npm packages, the build, a Python venv (.venv) with the SDK and its test deps
#   test   — core, plus Debian packages, code-server and Chromium for the real-VS-Code and browser suites
# Usage: bash .ci/setup.sh [core|test]
set -euo pipefail
cd "$(dirname "$0")/.."
what="${1:-core}"

step() { printf '\n==> %s\n' "$*"; }
# A step whose inputs have not changed since it last succeeded is skipped: a stamp file in
# .ci/.stamps holds the digest of its inputs (npm start on a machine already set up must not
# reinstall everything). Not in node_modules: a file there makes npm distrust its own record of
# the tree (vsce's `npm list` then fails).
stamps=.ci/.stamps
mkdir -p "$stamps"
digest() { cat "$@" 2>/dev/null | sha256sum | cut -c1-32; }
fresh() { [ -f "$1" ] && [ "$(cat "$1")" = "$2" ]; }
die() { printf '\nsetup: %s\n' "$*" >&2; exit 1; }

python3 -c 'import sys; sys.exit(sys.version_info < (3, 10))' 2>/dev/null \
  || die "Python 3.10 or newer is needed as python3 (found: $(python3 --version 2>&1 || echo none))"

# Debian packages: the browser and native-build deps for the test suites, and python3-venv
# wherever python3 cannot make a virtual environment (stock Debian/Ubuntu lack ensurepip).
missing=()
python3 -c 'import ensurepip, venv' 2>/dev/null || missing+=("python3-venv")
# bubblewrap: the OS isolation system:shell requires by default ([tools.shell] isolation); git: the
# tests attack through real git.
[ "$(uname -s)" = Linux ] && { dpkg -s bubblewrap >/dev/null 2>&1 || missing+=("bubblewrap"); }
[ "$what" = test ] && { command -v git >/dev/null 2>&1 || missing+=("git"); }
if [ "$what" = test ]; then
  # chromium drives the workbench and the dashboard; ripgrep, libkrb5-dev and a C++ toolchain
  # let .ci/code-server.sh build code-server offline (its native modules compile from source);
  # nats-server runs the cluster tests' NATS servers ([cluster]).
  for pkg in chromium ripgrep libkrb5-dev nats-server; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  { command -v g++ && command -v make; } >/dev/null 2>&1 || missing+=("build-essential")
fi
if [ "${#missing[@]}" -gt 0 ]; then
  step "Debian packages: ${missing[*]}"
  sudo_cmd=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || die "these Debian packages are needed: ${missing[*]} (install them, or run this as root)"
    sudo_cmd="sudo"
  fi
  command -v apt-get >/dev/null || die "these packages are needed and apt-get is not here: ${missing[*]}"
  flock /tmp/loom-apt.lock $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive flock /tmp/loom-apt.lock $sudo_cmd apt-get install -y -qq "${missing[@]}" >/dev/null
fi

npm_key="$(node --version) $(digest package.json package-lock.json)"
if fresh "$stamps/npm" "$npm_key" && [ -d node_modules ]; then
  step "npm packages: up to date"
else
  step "npm packages"
  if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi
  echo "$npm_key" > "$stamps/npm"
fi

[ -x .venv/bin/python ] || { python3 -m venv .venv; rm -f "$stamps/pip"; }
pip_key="$(.venv/bin/python --version) $(digest sdk/python/pyproject.toml)"
if fresh "$stamps/pip" "$pip_key"; then
  step "Python venv with the loom SDK: up to date"
else
  step "Python venv with the loom SDK"
  .venv/bin/python -m pip install -q --upgrade pip
  # The SDK was distributed as loom-agent before (a name another project holds on PyPI): an
  # editable install of ours under that name would shadow the new one's `loom` command.
  if .venv/bin/python -m pip show loom-agent 2>/dev/null | grep -q "^Editable project location: $PWD/sdk/python"; then
    .venv/bin/python -m pip uninstall -q -y loom-agent
  fi
  .venv/bin/python -m pip install -q -e "./sdk/python[dev,otel]"
  echo "$pip_key" > "$stamps/pip"
fi
# The SDK's wheel and sdist build tools, from PyPI where missing: setuptools (the build backend;
# esbuild.mjs builds the wheel without isolation, so it must be in the venv) and `build`.
if ! .venv/bin/python -c 'import build, setuptools, sys; sys.exit(int(setuptools.__version__.split(".")[0]) < 77)' 2>/dev/null; then
  step "Python build tools (setuptools, build)"
  .venv/bin/python -m pip install -q "setuptools>=77" "build>=1"
fi

# After the venv: the build makes the SDK wheel the VSIX carries with its Python. Skipped when no
# source is newer than the bundles.
if [ -f dist/runtime.js ] && [ -f dist/extension.js ] && [ -z "$(find runtime extension webview proto sdk/python/loom sdk/python/pyproject.toml esbuild.mjs package.json -newer dist/runtime.js -print -quit)" ]; then
  step "build: up to date"
else
  step "build (protos → types, esbuild bundles, SDK wheel)"
  LOOM_PYTHON="$PWD/.venv/bin/python" npm run build
fi

if [ "$what" = test ]; then
  # The compat suite's own venv: the reference's loom-py (its package is also `loom`, so never in
  # .venv) with pytest; cached in ~/.cache/loom, keyed by the reference tarball.
  step "reference loom-py venv (compat suite)"
  bash test/compat/setup-venv.sh >/dev/null
fi

if [ "$what" = test ] && [ -f .ci/code-server.sh ]; then
  step "code-server (real VS Code for the extension suites)"
  bash .ci/code-server.sh
fi
