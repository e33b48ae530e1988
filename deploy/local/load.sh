#!/usr/bin/env bash
# Drives the local stack with the project's load tool, in k6's scenario shape (ramp up, hold, ramp
# down; every order polled until it settles):
#   deploy/local/load.sh                                  # 50 orders/s peak, 10 s ramps, 30 s hold
#   deploy/local/load.sh --rate 200 --duration 1m --poll-ms 50 --json /tmp/load.json
# Starts the stack (run.sh start) unless ORDERSTREAM_URL points at a running gateway; then it also
# checks the books once the system is quiet (run.sh check) and stops what it started. Every option
# after the script name goes to the load tool (--help lists them). Exits non-zero if the load tool's
# thresholds or the check fail.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
CONFIG=${CONFIGURATION:-Release}
url=${ORDERSTREAM_URL:-}
if [ -z "$url" ]; then
  trap '"$ROOT/deploy/local/run.sh" stop >/dev/null' EXIT
  SEED_QTY=${SEED_QTY:-100000} "$ROOT/deploy/local/run.sh" start | grep -E "^(OrderStream is up|  Gateway)"
  url="http://127.0.0.1:${GATEWAY_PORT:-5080}"
else
  dotnet build "$ROOT/deploy/OrderStream.Load" -c "$CONFIG" -v quiet -nologo >/dev/null
fi
status=0
# --state: the stack's signing key, with which the tool mints each load user's customer token.
dotnet "$ROOT/deploy/OrderStream.Load/bin/$CONFIG/net10.0/OrderStream.Load.dll" --url "$url" --state "${ORDERSTREAM_STATE:-$ROOT/.local}" "$@" || status=$?
if [ -z "${ORDERSTREAM_URL:-}" ]; then
  "$ROOT/deploy/local/run.sh" check --wait 60 || status=$?
fi
exit $status
