#!/usr/bin/env bash
# Starts `overshare demo` on a free loopback port with a fresh data dir, waits for
# its demo.json, runs the browser tests against it and stops it again.
set -euo pipefail
bin=$(realpath "${1:?usage: with-demo.sh path/to/overshare}")
here=$(cd "$(dirname "$0")/.." && pwd)
data=$(mktemp -d)
port=${E2E_PORT:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')}
log="$data/demo.log"
"$bin" demo --addr "127.0.0.1:$port" --data-dir "$data" >"$log" 2>&1 &
pid=$!
cleanup() {
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  rm -rf "$data"
}
trap cleanup EXIT
for _ in $(seq 1 120); do
  [[ -s "$data/demo.json" ]] && break
  kill -0 "$pid" 2>/dev/null || { echo "overshare demo exited:"; cat "$log"; exit 1; }
  sleep 1
done
[[ -s "$data/demo.json" ]] || { echo "no demo.json after 120 s:"; tail -50 "$log"; exit 1; }
cd "$here"
if ! node e2e/run.mjs "$data/demo.json"; then
  echo "--- demo log (last 80 lines) ---"
  tail -80 "$log"
  exit 1
fi
