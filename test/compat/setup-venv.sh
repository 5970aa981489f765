#!/usr/bin/env bash
# The reference's loom-py in a virtual environment of its own, for the compat suite (test/compat/run.py).
# Not the project's .venv: both packages are called `loom`. Cached under ~/.cache/loom (or
# $LOOM_COMPAT_CACHE), keyed by the reference tarball, requirements.txt and the Python version, so a
# second run reuses it; older compat venvs are removed. Prints the venv's path as its last line.
# Usage: bash test/compat/setup-venv.sh [TARBALL]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
tarball="${1:-${LOOM_COMPAT_TARBALL:-$repo/../shared/reference/loom-os-loom-c34e1de.tar.gz}}"
[ -f "$tarball" ] || { echo "compat setup: the reference tarball is not at $tarball" >&2; exit 1; }
cache="${LOOM_COMPAT_CACHE:-$HOME/.cache/loom}"
key="$( { sha256sum < "$tarball"; sha256sum < "$here/requirements.txt"; python3 --version; } | sha256sum | cut -c1-16)"
venv="$cache/compat-venv-$key"
mkdir -p "$cache"
exec 9>"$cache/compat-venv.lock"
flock 9
if [ -f "$venv/.complete" ] && [ -x "$venv/bin/python" ]; then
  echo "compat venv: up to date" >&2
  echo "$venv"
  exit 0
fi
echo "compat venv: building $venv (reference loom-py, pytest, pytest-asyncio)" >&2
rm -rf "$venv"
src="$(mktemp -d "${TMPDIR:-/tmp}/loom-compat-setup-XXXXXX")"
trap 'rm -rf "$src"' EXIT
tar -xzf "$tarball" -C "$src"
pyproject="$(find "$src" -maxdepth 3 -path '*/loom-py/pyproject.toml' -print -quit)"
[ -n "$pyproject" ] || { echo "compat setup: no loom-py/pyproject.toml in $tarball" >&2; exit 1; }
python3 -m venv "$venv"
"$venv/bin/python" -m pip install -q --upgrade pip >&2
# A copy, not editable: the unpacked sources are temporary.
"$venv/bin/python" -m pip install -q "$(dirname "$pyproject")" -r "$here/requirements.txt" >&2
touch "$venv/.complete"
for old in "$cache"/compat-venv-*; do
  [ "$old" = "$venv" ] || [ ! -d "$old" ] || rm -rf "$old"
done
echo "$venv"
