#!/usr/bin/env bash
# Starts `overshare demo` on a free loopback port with a fresh data dir, waits for
# its demo.json, runs the browser tests against it and stops it again. Beside it, one
# small demo per identity provider profile (Entra ID, Keycloak) for the sign-in tests
# (e2e/signin.mjs); they start together with the main one, so they add only their
# own checks' time.
set -euo pipefail
bin=$(realpath "${1:?usage: with-demo.sh path/to/overshare}")
here=$(cd "$(dirname "$0")/.." && pwd)
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

pids=()
dirs=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "${dirs[@]}"
}
trap cleanup EXIT

# start_demo <port> <args…>: a demo in a fresh data dir; prints the dir.
start_demo() {
  local port=$1 data
  shift
  data=$(mktemp -d)
  "$bin" demo --addr "127.0.0.1:$port" --data-dir "$data" "$@" >"$data/demo.log" 2>&1 &
  pids+=($!)
  dirs+=("$data")
  started_dir=$data
  started_pid=$!
}

# wait_demo <dir> <pid>: until its demo.json is written.
wait_demo() {
  local data=$1 pid=$2
  for _ in $(seq 1 120); do
    [[ -s "$data/demo.json" ]] && return 0
    kill -0 "$pid" 2>/dev/null || { echo "overshare demo exited:"; cat "$data/demo.log"; exit 1; }
    sleep 1
  done
  echo "no demo.json after 120 s:"
  tail -50 "$data/demo.log"
  exit 1
}

start_demo "${E2E_PORT:-$(free_port)}"
main_dir=$started_dir main_pid=$started_pid
# The sign-in checks need no data: a tiny tenant keeps their syncs out of the main one's way.
profile_dirs=()
profile_pids=()
for profile in entra keycloak; do
  start_demo "$(free_port)" --idp-profile "$profile" --users 3 --files-per-user 5
  profile_dirs+=("$started_dir")
  profile_pids+=("$started_pid")
done

cd "$here"
for i in "${!profile_dirs[@]}"; do
  wait_demo "${profile_dirs[$i]}" "${profile_pids[$i]}"
  if ! node e2e/signin.mjs "${profile_dirs[$i]}/demo.json"; then
    echo "--- demo log (last 80 lines) ---"
    tail -80 "${profile_dirs[$i]}/demo.log"
    exit 1
  fi
  kill "${profile_pids[$i]}" 2>/dev/null || true
done

wait_demo "$main_dir" "$main_pid"
if ! node e2e/run.mjs "$main_dir/demo.json"; then
  echo "--- demo log (last 80 lines) ---"
  tail -80 "$main_dir/demo.log"
  exit 1
fi
