#!/usr/bin/env bash
# The API against its own OpenAPI document: schemathesis generates requests
# from /api/openapi.json and fails on any server error, any status code or
# content type the document does not list, and any response body that does
# not match its schema. Runs as an ADMIN's API token against a live server
# on a fresh SQLite file (the backend does not change the contract; the
# integration suite runs the same handlers on PostgreSQL).
#
# Usage: tests/contract/schemathesis.sh PATH/TO/vulntrack
#        tests/contract/schemathesis.sh --install   (only install the pinned tools;
#        CI does this in the background while it compiles)
set -euo pipefail

BIN="${1:?usage: $0 path/to/vulntrack binary | --install}"
SCHEMATHESIS_VERSION="4.32.5"
VALIDATOR_VERSION="0.9.0"
PORT="${SCHEMATHESIS_PORT:-39431}"
BASE="http://127.0.0.1:${PORT}"
MAX_EXAMPLES="${SCHEMATHESIS_MAX_EXAMPLES:-60}"
MIN_CASES=2000

work="$(mktemp -d)"
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# The pinned tools live in a virtualenv kept between runs on this machine
# (keyed by their versions), so a run installs them only once.
venv="${XDG_CACHE_HOME:-$HOME/.cache}/vulntrack-ci/schemathesis-${SCHEMATHESIS_VERSION}-validator-${VALIDATOR_VERSION}"
if ! "$venv/bin/schemathesis" --version 2>/dev/null | grep -q "${SCHEMATHESIS_VERSION}"; then
  echo "installing schemathesis ${SCHEMATHESIS_VERSION} and openapi-spec-validator ${VALIDATOR_VERSION} into ${venv}"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q "schemathesis==${SCHEMATHESIS_VERSION}" "openapi-spec-validator==${VALIDATOR_VERSION}"
fi
if [ "$BIN" = "--install" ]; then
  "$venv/bin/schemathesis" --version
  exit 0
fi

# One client sends thousands of requests: the per-user and per-client
# budgets are raised for this run (their own tests check them).
DATABASE_URL="sqlite://${work}/vt.db" VULNTRACK_BIND="127.0.0.1:${PORT}" \
  VULNTRACK_PUBLIC_URL="${BASE}" \
  VULNTRACK_RATE_LIMIT_API=1000000/1m VULNTRACK_RATE_LIMIT_CREATE=1000000/1m \
  VULNTRACK_RATE_LIMIT_ANON=1000000/1m VULNTRACK_RATE_LIMIT_RESET=1000000/1m \
  VULNTRACK_RATE_LIMIT_LOGIN=1000000/1m VULNTRACK_RATE_LIMIT_LOGIN_CLIENT=1000000/1m \
  RUST_LOG=warn "$BIN" serve >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 50); do curl -fs "${BASE}/healthz" >/dev/null && break; sleep 0.2; done
curl -fs "${BASE}/healthz" >/dev/null || { cat "$work/server.log"; echo "the server did not start" >&2; exit 1; }

curl -fsS "${BASE}/api/openapi.json" -o "$work/openapi.json"
"$venv/bin/python" - "$work/openapi.json" <<'PY'
import json, sys
from openapi_spec_validator import validate
document = json.load(open(sys.argv[1]))
assert document["openapi"].startswith("3.1"), document["openapi"]
validate(document)
print(f"openapi.json: valid OpenAPI {document['openapi']}, {len(document['paths'])} paths")
PY

api() { # method path [json] -> body; fails on an HTTP error
  curl -fsS -X "$1" "${BASE}$2" -H 'Content-Type: application/json' -b "$work/cookies" -c "$work/cookies" \
    ${TOKEN:+-H "Authorization: Bearer ${TOKEN}"} ${3:+--data "$3"}
}
PASSWORD='Contract-Test-Passw0rd!'
api POST /api/v1/setup "{\"team_name\":\"Contract\",\"name\":\"Ada Admin\",\"email\":\"admin@example.com\",\"password\":\"${PASSWORD}\"}" >/dev/null
api POST /api/v1/auth/login "{\"email\":\"admin@example.com\",\"password\":\"${PASSWORD}\"}" >/dev/null
TOKEN="$(api POST /api/v1/tokens '{"name":"schemathesis"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')"
rm -f "$work/cookies"
# Records to read, change and comment on.
for n in 1 2 3; do
  api POST /api/v1/vulnerabilities "{\"title\":\"Record ${n}\",\"description\":\"A seeded record for the contract run.\",\"severity\":\"HIGH\",\"tags\":[\"seed\"]}" >/dev/null
done

# One worker: with two, schemathesis itself crashed once in CPython's
# compiler ("AST constructor recursion depth mismatch"), and one worker
# generates as many cases here (the server is the bottleneck).
# Operations that would end the run's own credentials are left out: signing
# out everywhere (with revoke_tokens) and changing the password revoke the
# token the run uses.
set +e
"$venv/bin/schemathesis" run "${BASE}/api/openapi.json" \
  --header "Authorization: Bearer ${TOKEN}" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
  --exclude-operation-id post_auth_logout_all --exclude-operation-id post_me_password \
  --exclude-operation-id post_auth_logout --exclude-operation-id delete_me \
  --max-examples "$MAX_EXAMPLES" --seed 20261129 --max-time "${SCHEMATHESIS_MAX_TIME:-45}" --workers 1 \
  --generation-allow-x00 false --generation-database none \
  --report ndjson --report-ndjson-path "$work/events.ndjson" --no-color
status=$?
set -e
cases="$(python3 - "$work/events.ndjson" <<'PY'
import json, sys
total = 0
for line in open(sys.argv[1]):
    event = json.loads(line)
    for name, body in event.items():
        if name == "ScenarioFinished" and isinstance(body, dict):
            recorder = body.get("recorder") or {}
            total += len(recorder.get("cases") or {})
print(total)
PY
)"
echo "schemathesis: ${cases} generated cases, exit ${status}"
grep -E "panicked|ERROR" "$work/server.log" | head -20 || true
[ "$status" -eq 0 ] || { echo "schemathesis found failures" >&2; exit 1; }
[ "$cases" -ge "$MIN_CASES" ] || { echo "only ${cases} cases (< ${MIN_CASES}); raise SCHEMATHESIS_MAX_EXAMPLES" >&2; exit 1; }
