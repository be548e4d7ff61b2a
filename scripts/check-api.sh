#!/usr/bin/env bash
# Checks the HTTP API against its own OpenAPI document:
#   1. openapi/openapi.json is valid OpenAPI 3 (openapi-spec-validator);
#   2. schemathesis sends generated well-formed and malformed requests to a real gateway
#      (temporary SQLite file, free loopback port) and fails on any 5xx or any response the
#      spec does not describe.
# Usage: scripts/check-api.sh [max examples per operation, default 50] [schemathesis options...]
#   e.g. scripts/check-api.sh 50 --seed N   replays a CI run
set -euo pipefail
cd "$(dirname "$0")/.."

max_examples="${1:-50}"
venv="${KAANHA_CI_VENV:-target/ci-venv}"
if [ ! -x "$venv/bin/schemathesis" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r scripts/requirements-ci.txt
fi

"$venv/bin/openapi-spec-validator" openapi/openapi.json

cargo build --quiet --bin kaanha-gateway
bin=target/debug/kaanha-gateway
work=$(mktemp -d)
server_pid=""
upstream_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
  [ -n "$upstream_pid" ] && kill "$upstream_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# A stand-in for the platform's API, so actions, searches, lists and API calls run (200) instead
# of answering 503.
upstream_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 - "$upstream_port" <<'PY' &
import http.server, sys
class Upstream(http.server.BaseHTTPRequestHandler):
    def answer(self):
        self.rfile.read(int(self.headers.get("content-length") or 0))
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"status": "ok"}')
    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = answer
    def log_message(self, *args):
        pass
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Upstream).serve_forever()
PY
upstream_pid=$!

export KAANHA_DATABASE_URL="sqlite://$work/gateway.db?mode=rwc"
export KAANHA_ALLOW_PRIVATE_TARGETS=true
export KAANHA_JWT_SECRET=schemathesis-jwt-secret-0123456789abcdef
export KAANHA_UPSTREAM_JWT_SECRET=schemathesis-upstream-secret-0123456789abcdef
# schemathesis sends bad credentials by the hundred from one address; the throttle would answer
# 429 to most of the run (it has its own test in the suite).
export KAANHA_AUTH_FAILURES_PER_MINUTE=0
export KAANHA_AUTH_FAILURE_DELAY=0s
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
key=$("$bin" api-key create --org schemathesis --name schemathesis \
  --scopes webhooks,integrations,events:publish,api-keys 2>/dev/null)
KAANHA_UPSTREAM_URL="http://127.0.0.1:$upstream_port" KAANHA_BIND="127.0.0.1:$port" KAANHA_LOG_FORMAT=json "$bin" serve >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break
  sleep 0.1
done

# positive_data_acceptance is left out on purpose: some schema-valid values are refused for
# reasons a schema cannot state (a URL whose host does not resolve, a blank name).
"$venv/bin/schemathesis" --config-file scripts/schemathesis.toml run "http://127.0.0.1:$port/api/openapi.json" \
  --header "Authorization: Bearer $key" \
  --checks all --exclude-checks positive_data_acceptance \
  --max-examples "$max_examples" --no-color "${@:2}"

# schemathesis fails on any 5xx it sees; this catches errors the gateway logged on its own.
if grep '"level":"ERROR"' "$work/server.log" | head -n 5 | grep .; then
  echo "the gateway logged errors during the run" >&2
  exit 1
fi
