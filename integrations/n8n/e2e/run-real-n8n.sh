#!/usr/bin/env bash
# End to end with a real n8n (1.123.81, the last 1.x that runs on Node 20) on loopback: the
# package is installed as a community node, a workflow using the trigger is activated (n8n
# subscribes through the gateway), an event is published, and the workflow must have run.
#
# Usage: KAANHA_GATEWAY_BIN=target/debug/kaanha-gateway integrations/n8n/e2e/run-real-n8n.sh
# after `npm ci --ignore-scripts && npm run build` in integrations/n8n (the package n8n loads is
# dist/).
# n8n is installed once into $N8N_E2E_CACHE (default target/n8n-e2e): ~8 minutes, 1.8 GB.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
bin="${KAANHA_GATEWAY_BIN:?set KAANHA_GATEWAY_BIN to a kaanha-gateway binary}"
cache="${N8N_E2E_CACHE:-$here/../../target/n8n-e2e}"
mkdir -p "$cache"
cache="$(cd "$cache" && pwd)"

if [ ! -x "$cache/node_modules/.bin/n8n" ]; then
  # Offline on Node 20, n8n 1.x needs two overrides: xlsx from the registry (not its CDN), and
  # an isolated-vm that builds on Node 20.
  cat > "$cache/package.json" <<'JSON'
{"name": "n8n-e2e", "private": true,
 "dependencies": {"n8n": "1.123.81"},
 "overrides": {"xlsx": "0.18.5", "isolated-vm": "5.0.4"}}
JSON
  (cd "$cache" && npm install --no-audit --no-fund --loglevel=error)
fi

work="$(mktemp -d)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# The gateway, on its own SQLite file.
gw_port=$(free_port)
export KAANHA_DATABASE_URL="sqlite://$work/gateway.db?mode=rwc" KAANHA_ALLOW_PRIVATE_TARGETS=true KAANHA_LOG=warn
key=$("$bin" api-key create --org org_n8n_e2e --name n8n --scopes webhooks,integrations,events:publish 2>/dev/null)
KAANHA_BIND="127.0.0.1:$gw_port" "$bin" serve &
pids+=($!)
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$gw_port/readyz" >/dev/null && break; sleep 0.1; done

# n8n, with the package installed as a community node.
export N8N_USER_FOLDER="$work/n8n"
nodes="$N8N_USER_FOLDER/.n8n/nodes/node_modules/n8n-nodes-kaanha"
mkdir -p "$nodes"
cp -r "$here/package.json" "$here/dist" "$nodes/"
# As an install from npm would: n8n-workflow, the package's peer dependency, is n8n's own.
ln -s "$cache/node_modules/n8n-workflow" "$N8N_USER_FOLDER/.n8n/nodes/node_modules/n8n-workflow"
n8n_port=$(free_port)
export N8N_PORT="$n8n_port" N8N_LISTEN_ADDRESS=127.0.0.1 WEBHOOK_URL="http://127.0.0.1:$n8n_port/" \
  N8N_ENCRYPTION_KEY=kaanha-e2e-encryption-key N8N_DIAGNOSTICS_ENABLED=false \
  N8N_PERSONALIZATION_ENABLED=false N8N_VERSION_NOTIFICATIONS_ENABLED=false \
  N8N_TEMPLATES_ENABLED=false N8N_HIRING_BANNER_ENABLED=false N8N_RUNNERS_ENABLED=false \
  DB_TYPE=sqlite N8N_SECURE_COOKIE=false
n8n="$cache/node_modules/.bin/n8n"

cat > "$work/credentials.json" <<JSON
[{"id": "kaanhaE2eCred01", "name": "Kaanha e2e", "type": "kaanhaApi",
  "data": {"apiKey": "$key", "baseUrl": "http://127.0.0.1:$gw_port"}}]
JSON
cat > "$work/workflow.json" <<'JSON'
[{"id": "kaanhaE2eFlow01", "name": "Kaanha e2e", "active": false, "settings": {},
  "connections": {},
  "nodes": [{"id": "8a1c7d0e-0000-4000-8000-000000000001", "name": "Kaanha Trigger",
    "type": "n8n-nodes-kaanha.kaanhaTrigger", "typeVersion": 1, "position": [0, 0],
    "webhookId": "kaanha-e2e-hook",
    "parameters": {"events": ["message.received"], "filters": {}},
    "credentials": {"kaanhaApi": {"id": "kaanhaE2eCred01", "name": "Kaanha e2e"}}}]}]
JSON
"$n8n" import:credentials --input="$work/credentials.json"
"$n8n" import:workflow --input="$work/workflow.json"
"$n8n" update:workflow --id=kaanhaE2eFlow01 --active=true
"$n8n" start > "$work/n8n.log" 2>&1 &
pids+=($!)

# Activation subscribes n8n's webhook URL through the gateway.
subscribed=""
for _ in $(seq 120); do
  subscribed=$(curl -fs -H "authorization: Bearer $key" \
    "http://127.0.0.1:$gw_port/api/integrations/n8n/hooks" | python3 -c 'import json,sys; d=json.load(sys.stdin); hooks=d if isinstance(d, list) else d.get("data", []); print(hooks[0]["targetUrl"] if hooks else "")' || true)
  [ -n "$subscribed" ] && break
  sleep 1
done
if [ -z "$subscribed" ]; then
  echo "n8n never subscribed; its log:"; tail -50 "$work/n8n.log"; exit 1
fi
echo "n8n subscribed $subscribed"

event_id=$(curl -fs -X POST -H "authorization: Bearer $key" -H 'content-type: application/json' \
  -d '{"event": "message.received", "data": {"text": "Hello from the e2e"}}' \
  "http://127.0.0.1:$gw_port/api/events" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
echo "published $event_id"

# The workflow ran: n8n recorded a successful execution of it.
ran=0
for _ in $(seq 60); do
  ran=$(python3 - "$N8N_USER_FOLDER/.n8n/database.sqlite" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
try:
    print(db.execute("select count(*) from execution_entity where workflowId = 'kaanhaE2eFlow01' and status = 'success'").fetchone()[0])
except sqlite3.Error:
    print(0)
PY
)
  [ "$ran" -ge 1 ] && break
  sleep 1
done
if [ "$ran" -lt 1 ]; then
  echo "the workflow did not run; n8n's log:"; tail -50 "$work/n8n.log"; exit 1
fi
echo "n8n ran the workflow for $event_id ($ran successful execution)"

# A request to the same URL that the gateway did not sign: n8n answers 401 and runs nothing.
forged=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'content-type: application/json' \
  -H "webhook-id: forged" -H "webhook-timestamp: $(date +%s)" -H 'webhook-signature: v1,AAAA' \
  -d '{"id": "forged", "event": "message.received", "data": {}}' "$subscribed")
if [ "$forged" != 401 ]; then
  echo "a forged delivery was answered $forged, not 401"; exit 1
fi
echo "a forged delivery was refused with 401"
