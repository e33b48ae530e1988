#!/usr/bin/env bash
# Regenerates docs/benchmarks.md: starts the local stack (run.sh start, the README's run path) with
# enough stock for every step, runs the load tool's benchmark (a ladder of arrival rates up to the
# highest sustainable one, latency at 25/50/75 % of it and at 250/s, a hot SKU, the tool's own
# ceiling; the checker after every step) and stops the stack. Takes about 10 minutes.
#   deploy/local/benchmark.sh                         # writes docs/benchmarks.md
#   deploy/local/benchmark.sh --hold 10s --rates 100,200,400 --out /tmp/bench.md
# Every option goes to `OrderStream.Load benchmark` (--help lists them).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
CONFIG=${CONFIGURATION:-Release}
trap '"$ROOT/deploy/local/run.sh" stop >/dev/null' EXIT
# TRACE_VIEWER=off: no viewer and so no trace export (unless you set OTEL_EXPORTER_OTLP_ENDPOINT); sending a trace of every order would take CPU from the saga being measured.
TRACE_VIEWER=off SEED_QTY=${SEED_QTY:-100000000} "$ROOT/deploy/local/run.sh" start | grep -E "^(OrderStream is up|  Gateway)"
cd "$ROOT"
dotnet "$ROOT/deploy/OrderStream.Load/bin/$CONFIG/net10.0/OrderStream.Load.dll" benchmark \
  --url "http://127.0.0.1:${GATEWAY_PORT:-5080}" --state "${ORDERSTREAM_STATE:-$ROOT/.local}" "$@"
