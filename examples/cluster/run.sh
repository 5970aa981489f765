#!/usr/bin/env bash
# Two runtimes on one bus over NATS, on this machine, in one command:
#   bash examples/cluster/run.sh
# Starts Debian's nats-server with JetStream (its config and store in a temp folder, port
# ${LOOM_NATS_PORT:-4333} on 127.0.0.1), then the runtimes of alpha/ and beta/ with their Python
# agents. alpha's trader publishes orders (market.>, shared over JetStream) and prices them with
# beta's pricing:quote tool (offered to the cluster); beta's desk hears the orders. Every event is
# printed with the runtime it was seen on. Ctrl+C stops everything.
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v nats-server >/dev/null || [ -x /usr/sbin/nats-server ] || { echo "nats-server is missing: apt-get install nats-server" >&2; exit 1; }
NATS_SERVER="$(command -v nats-server || echo /usr/sbin/nats-server)"
[ -f dist/runtime.js ] || bash .ci/setup.sh core
export LOOM_PYTHON="${LOOM_PYTHON:-$PWD/.venv/bin/python}"
PORT="${LOOM_NATS_PORT:-4333}"
TMP="$(mktemp -d -t loom-example-nats-XXXXXX)"
cat > "$TMP/nats.conf" <<CONF
listen: "127.0.0.1:$PORT"
jetstream { store_dir: "$TMP/store" }
CONF
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT INT TERM
"$NATS_SERVER" -c "$TMP/nats.conf" > "$TMP/nats.log" 2>&1 &
pids+=($!)
for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break; sleep 0.1; done

# loom.toml names port 4333; the servers setting wins over it, so LOOM_NATS_PORT is honoured.
overrides="{\"cluster\":{\"servers\":[\"nats://127.0.0.1:$PORT\"]}}"
for node in alpha beta; do
  # Output through a process substitution, so that $! is the runtime itself (cleanup ends it).
  node dist/runtime.js --workspace "examples/cluster/$node" --print-events --overrides "$overrides" \
    > >(sed -u "s/^/[$node] /") 2>&1 &
  pids+=($!)
done
wait
