# Sourced by scripts/dev and scripts/test: starts the local services the
# project needs and stops, on exit, whatever it started.

cleanups=()
on_exit() { cleanups+=("$1"); }
run_cleanups() {
  local i
  for ((i=${#cleanups[@]}-1; i>=0; i--)); do eval "${cleanups[$i]}" || true; done
  cleanups=()
}
trap run_cleanups EXIT
trap 'exit 130' INT TERM

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || echo "$1"
}

# wait_http URL PID SECONDS LOG: wait until URL answers, or fail if PID dies.
wait_http() {
  local url=$1 pid=$2 secs=$3 log=$4 i
  for i in $(seq 1 $((secs * 4))); do
    curl -fsS --max-time 2 -o /dev/null "$url" 2>/dev/null && return 0
    # stripe-mock answers 401 without a key: any HTTP answer means up.
    [ "$(curl -s --max-time 2 -o /dev/null -w '%{http_code}' "$url" 2>/dev/null)" != "000" ] && return 0
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "$url: the process exited; its log:" >&2; tail -20 "$log" >&2; return 1
    fi
    sleep 0.25
  done
  echo "$url did not answer within $secs s; log:" >&2; tail -20 "$log" >&2
  return 1
}

# Firestore emulator, unless FIRESTORE_EMULATOR_HOST points at a running
# one. gcloud forks a Java process that outlives it, so the emulator runs in
# a process group of its own and the whole group is stopped.
start_emulator() {
  if [ -n "${FIRESTORE_EMULATOR_HOST:-}" ]; then
    if curl -fsS --max-time 2 -o /dev/null "http://$FIRESTORE_EMULATOR_HOST/"; then
      echo "Firestore emulator: using the one at $FIRESTORE_EMULATOR_HOST"
      return 0
    fi
    echo "FIRESTORE_EMULATOR_HOST=$FIRESTORE_EMULATOR_HOST does not answer; unset it to have one started" >&2
    return 1
  fi
  if ! command -v gcloud >/dev/null 2>&1; then
    echo "gcloud is not installed: install the Google Cloud CLI with its Firestore emulator (package google-cloud-cli-firestore-emulator), or set FIRESTORE_EMULATOR_HOST" >&2
    return 1
  fi
  local host="127.0.0.1:${FIRESTORE_EMULATOR_PORT:-$(free_port 8681)}"
  local log="${TMPDIR:-/tmp}/firestore-emulator-${host##*:}.log"
  echo "Firestore emulator: starting on $host (log: $log)"
  setsid gcloud emulators firestore start --host-port="$host" --quiet >"$log" 2>&1 &
  local pgid=$!
  on_exit "stop_group $pgid"
  wait_http "http://$host/" "$pgid" 60 "$log" || return 1
  export FIRESTORE_EMULATOR_HOST="$host"
}

stop_group() {
  local pgid=$1 i
  kill -TERM -- "-$pgid" 2>/dev/null || return 0
  for i in $(seq 1 20); do
    kill -0 -- "-$pgid" 2>/dev/null || return 0
    sleep 0.25
  done
  kill -KILL -- "-$pgid" 2>/dev/null || true
}

# stripe-mock (Stripe's API shape, no state), installed with go install
# into a cache outside the repository, unless STRIPE_MOCK_URL is set.
STRIPE_MOCK_VERSION=v0.203.0
install_stripe_mock() {
  local bin="${BILLING_TOOLS:-$HOME/.cache/billing/bin}"
  if [ ! -x "$bin/stripe-mock" ] || ! go version -m "$bin/stripe-mock" 2>/dev/null | grep -q "$STRIPE_MOCK_VERSION"; then
    echo "stripe-mock: installing $STRIPE_MOCK_VERSION into $bin"
    GOBIN="$bin" go install "github.com/stripe/stripe-mock@$STRIPE_MOCK_VERSION" || return 1
  fi
}
start_stripe_mock() {
  if [ -n "${STRIPE_MOCK_URL:-}" ]; then
    echo "stripe-mock: using the one at $STRIPE_MOCK_URL"
    return 0
  fi
  install_stripe_mock || return 1
  local bin="${BILLING_TOOLS:-$HOME/.cache/billing/bin}"
  local port
  port=$(free_port 12111)
  local log="${TMPDIR:-/tmp}/stripe-mock-$port.log"
  "$bin/stripe-mock" -http-port "$port" -https-addr 127.0.0.1: >"$log" 2>&1 &
  local pid=$!
  on_exit "kill $pid 2>/dev/null"
  wait_http "http://127.0.0.1:$port/v1/customers" "$pid" 30 "$log" || return 1
  export STRIPE_MOCK_URL="http://127.0.0.1:$port"
  echo "stripe-mock: $STRIPE_MOCK_URL"
}

# Firebase Auth emulator (firebase-tools from npm, installed into a cache
# outside the repository), unless FIREBASE_AUTH_EMULATOR_HOST points at a
# running one. The functions verify ID tokens against it with the Firebase
# Admin SDK, as they verify real ones against Google in production.
FIREBASE_TOOLS_VERSION=15.37.0
install_firebase_tools() {
  if [ -n "${FIREBASE_AUTH_EMULATOR_HOST:-}" ]; then
    return 0
  fi
  local dir="${BILLING_TOOLS_DIR:-$HOME/.cache/billing}/firebase-tools-$FIREBASE_TOOLS_VERSION"
  if [ ! -x "$dir/node_modules/.bin/firebase" ]; then
    if ! command -v npm >/dev/null 2>&1; then
      echo "npm is missing: install Node.js 20+ (the Auth emulator is firebase-tools), or set FIREBASE_AUTH_EMULATOR_HOST" >&2
      return 1
    fi
    echo "Auth emulator: installing firebase-tools $FIREBASE_TOOLS_VERSION into $dir"
    mkdir -p "$dir"
    npm install --prefix "$dir" --no-fund --no-audit --loglevel=error "firebase-tools@$FIREBASE_TOOLS_VERSION" >"$dir.install.log" 2>&1 ||
      { echo "npm install firebase-tools failed; see $dir.install.log" >&2; return 1; }
  fi
}
start_auth_emulator() {
  if [ -n "${FIREBASE_AUTH_EMULATOR_HOST:-}" ]; then
    echo "Auth emulator: using the one at $FIREBASE_AUTH_EMULATOR_HOST"
    return 0
  fi
  install_firebase_tools || return 1
  local dir="${BILLING_TOOLS_DIR:-$HOME/.cache/billing}/firebase-tools-$FIREBASE_TOOLS_VERSION"
  local port hub logport work
  port=$(free_port 9099); hub=$(free_port 4400); logport=$(free_port 4500)
  work=$(mktemp -d)
  cat >"$work/firebase.json" <<JSON
{"emulators": {"auth": {"host": "127.0.0.1", "port": $port}, "hub": {"host": "127.0.0.1", "port": $hub},
 "logging": {"host": "127.0.0.1", "port": $logport}, "ui": {"enabled": false}}}
JSON
  local log="${TMPDIR:-/tmp}/auth-emulator-$port.log"
  echo "Auth emulator: starting on 127.0.0.1:$port (log: $log)"
  (cd "$work" && exec setsid "$dir/node_modules/.bin/firebase" emulators:start --only auth \
    --project "${GOOGLE_CLOUD_PROJECT:-demo-billing}" >"$log" 2>&1) &
  local pgid=$!
  on_exit "stop_group $pgid; rm -rf '$work'"
  wait_http "http://127.0.0.1:$port/" "$pgid" 90 "$log" || return 1
  export FIREBASE_AUTH_EMULATOR_HOST="127.0.0.1:$port"
}

# install_tools installs what start_stripe_mock and start_auth_emulator
# need, both at once (a cold machine spends most of a minute on each).
install_tools() {
  local sm=0 fb=0
  if [ -z "${STRIPE_MOCK_URL:-}" ]; then install_stripe_mock & sm=$!; fi
  install_firebase_tools & fb=$!
  if [ "$sm" != 0 ]; then wait "$sm" || return 1; fi
  wait "$fb" || return 1
}
