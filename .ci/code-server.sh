#!/usr/bin/env bash
# Installs code-server (VS Code's own server and Node extension host) for the tests that run
# inside a real VS Code, and prints the path of its binary on stdout (all else goes to stderr).
#
# Idempotent: the install lives in a cache outside the repository and is reused once complete.
# Offline-safe: install scripts are ignored because code-server's postinstall and
# @vscode/ripgrep's download from the internet; Debian's ripgrep takes the place of the download
# and the native modules are rebuilt from source against this machine's Node.
set -euo pipefail

VERSION=4.100.3
CACHE="${LOOM_CACHE:-$HOME/.cache/loom}"
DIR="$CACHE/code-server-$VERSION"
BIN="$DIR/node_modules/.bin/code-server"
READY="$DIR/.loom-ready"

if [[ -f "$READY" && -x "$BIN" ]]; then
  echo "$BIN"
  exit 0
fi

exec 3>&1 1>&2 # keep stdout for the path alone

# Its Debian prerequisites (ripgrep, libkrb5-dev, chromium, a C++ toolchain) come from
# .ci/setup.sh test; say plainly what is missing rather than fail deep inside a rebuild.
for cmd in rg g++ make; do
  command -v "$cmd" >/dev/null || { echo "code-server.sh: $cmd is missing: run 'bash .ci/setup.sh test' (it installs the Debian packages)" >&2; exit 1; }
done
dpkg -s libkrb5-dev >/dev/null 2>&1 || { echo "code-server.sh: libkrb5-dev is missing: run 'bash .ci/setup.sh test'" >&2; exit 1; }

export npm_config_yes=true # a rebuild step runs `npx node-gyp`
# node-gyp must build against this Node's own headers: it cannot download them here.
node_include="$(dirname "$(dirname "$(command -v node)")")/include/node"
for dir in "$node_include" /usr/include/node /usr/local/include/node; do
  if [[ -f "$dir/node.h" ]]; then export npm_config_nodedir="$(dirname "$(dirname "$dir")")"; break; fi
done
[[ -n "${npm_config_nodedir:-}" ]] || { echo "code-server.sh: Node's headers (include/node/node.h) are not on this machine; node-gyp would try to download them" >&2; exit 1; }
export npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false

mkdir -p "$DIR"
cd "$DIR"
[[ -f package.json ]] || echo '{"name":"loom-code-server","private":true}' >package.json

echo "code-server.sh: npm install code-server@$VERSION (scripts ignored)"
npm install --ignore-scripts --no-save "code-server@$VERSION"

CS="$DIR/node_modules/code-server"
VS="$CS/lib/vscode"

# What code-server's postinstall would do, without its downloads.
echo "code-server.sh: installing VS Code's dependencies"
(cd "$VS" && npm install --omit=dev --ignore-scripts)
(cd "$VS/extensions" && npm install --omit=dev --ignore-scripts)
ln -sfn node_modules "$VS/node_modules.asar"
ln -sfn code-linux.sh "$VS/bin/remote-cli/code-server"
ln -sfn browser-linux.sh "$VS/bin/helpers/browser.sh"

RG_DIR="$VS/node_modules/@vscode/ripgrep/bin"
mkdir -p "$RG_DIR"
cp "$(command -v rg)" "$RG_DIR/rg"

echo "code-server.sh: rebuilding native modules"
# @vscode/ripgrep's install script sees bin/rg in place and downloads nothing.
(cd "$VS" && npm rebuild)
npm rebuild argon2

touch "$READY"
echo "$BIN" >&3
