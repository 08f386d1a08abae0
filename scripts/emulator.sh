# Sourced by scripts/dev and scripts/test: starts the Firestore emulator
# unless FIRESTORE_EMULATOR_HOST already points at a running one, and stops
# what it started on exit.
#
# gcloud forks a Java process that outlives it, so the emulator runs in a
# process group of its own and the whole group is stopped.

emulator_pgid=""

emulator_up() { curl -fsS --max-time 2 "http://$1/" >/dev/null 2>&1; }

start_emulator() {
  if [ -n "${FIRESTORE_EMULATOR_HOST:-}" ]; then
    if emulator_up "$FIRESTORE_EMULATOR_HOST"; then
      echo "Firestore emulator: using the one at $FIRESTORE_EMULATOR_HOST"
      return 0
    fi
    echo "FIRESTORE_EMULATOR_HOST=$FIRESTORE_EMULATOR_HOST does not answer; unset it to have one started" >&2
    return 1
  fi
  if ! command -v gcloud >/dev/null 2>&1; then
    echo "gcloud is not installed: install the Google Cloud CLI with its Firestore emulator (Debian package google-cloud-cli-firestore-emulator), or set FIRESTORE_EMULATOR_HOST" >&2
    return 1
  fi
  local port="${FIRESTORE_EMULATOR_PORT:-}"
  if [ -z "$port" ]; then
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || echo 8681)
  fi
  local host="127.0.0.1:$port"
  local log="${EMULATOR_LOG:-${TMPDIR:-/tmp}/firestore-emulator-$port.log}"
  echo "Firestore emulator: starting on $host (log: $log)"
  setsid gcloud emulators firestore start --host-port="$host" --quiet >"$log" 2>&1 &
  emulator_pgid=$!
  trap stop_emulator EXIT
  local i
  for i in $(seq 1 120); do
    if emulator_up "$host"; then
      export FIRESTORE_EMULATOR_HOST="$host"
      return 0
    fi
    if ! kill -0 "$emulator_pgid" 2>/dev/null; then
      echo "the Firestore emulator exited; its log:" >&2
      tail -20 "$log" >&2
      return 1
    fi
    sleep 0.5
  done
  echo "the Firestore emulator did not answer within 60 s; its log:" >&2
  tail -20 "$log" >&2
  return 1
}

stop_emulator() {
  if [ -n "$emulator_pgid" ]; then
    kill -TERM -- "-$emulator_pgid" 2>/dev/null || true
    local i
    for i in $(seq 1 20); do
      kill -0 -- "-$emulator_pgid" 2>/dev/null || break
      sleep 0.25
    done
    kill -KILL -- "-$emulator_pgid" 2>/dev/null || true
    emulator_pgid=""
  fi
}
