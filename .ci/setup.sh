#!/usr/bin/env bash
# Installs what Loom needs on a fresh machine, idempotently:
#   core   — npm packages, the build, a Python venv (.venv) with the SDK and its test deps
#   test   — core, plus Debian packages, code-server and Chromium for the real-VS-Code and browser suites
# Usage: bash .ci/setup.sh [core|test]
set -euo pipefail
cd "$(dirname "$0")/.."
what="${1:-core}"

step() { printf '\n==> %s\n' "$*"; }

if [ "$what" = test ]; then
  missing=()
  for pkg in chromium ripgrep libkrb5-dev; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  if [ "${#missing[@]}" -gt 0 ]; then
    step "Debian packages: ${missing[*]}"
    sudo_cmd=""; [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
    $sudo_cmd apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
fi

step "npm packages"
if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi

step "build (protos → types, esbuild bundles)"
npm run build

step "Python venv with the loom SDK"
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e "./sdk/python[dev,otel]"

if [ "$what" = test ] && [ -f .ci/code-server.sh ]; then
  step "code-server (real VS Code for the extension suites)"
  bash .ci/code-server.sh
fi
