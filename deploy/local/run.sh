#!/usr/bin/env bash
# Runs the whole OrderStream stack on this machine, without Docker:
#   deploy/local/run.sh          start everything, print the URLs, stop it all on Ctrl+C
#   deploy/local/run.sh start    the same, but return once it is up (supervision goes on in the
#                                background; stop it with: run.sh stop)
#   deploy/local/run.sh stop     stop a stack started with 'start' (supervision first, then the rest)
#   deploy/local/run.sh check    check the running stack's books (deploy/OrderStream.Checker; add --json,
#                                --wait <seconds>); exit 0 if every check passed, 1 if not
# A private PostgreSQL cluster (one database and role per service), redis-server and the embedded
# Kafka cluster run on private ports under .local/. Kafka's data lives in memory, so every start
# begins from a clean state: no saga can be stranded half-way in a broker that no longer exists.
# Traces go to a local viewer (the Aspire Dashboard) unless TRACE_VIEWER=off or the caller exports
# elsewhere (their own OTEL_EXPORTER_OTLP_ENDPOINT wins, and then no viewer is started).
# What runs and with which settings is not written here: deploy/OrderStream.Stack derives it from the
# catalogue (shared/OrderStream.Contracts/Catalogue.cs) and prints it ('plan'); this script executes it.
# Each service's port is <KEY>_PORT when set (GATEWAY_PORT, INVENTORY_PORT, PAYMENT_PORT, MATERIALIZER_PORT,
# DASHBOARD_PORT, VENDORA_PORT, VENDORB_PORT), else the catalogue's.
# Two mock vendors (vendor-a, vendor-b: deploy/OrderStream.MockVendor) serve the stock inventory syncs into the
# vendor-fed SKUs VND-A-00n and VND-B-00n; their chaos switches are PUT /chaos on each (docs/architecture.md,
# "Stock from vendors").
# Supervision: a service of the catalogue, redis-server or the trace viewer that exits is started again
# after a backoff (1 s, doubling to 10 s, back to 1 s after 60 s up), logged on the output and in
# $STATE/supervisor.log; $STATE/<name>.pid always holds the running process's own pid. PostgreSQL or the embedded Kafka cluster exiting stops the whole stack:
# Kafka keeps its data in memory only, so the sagas in flight could not go on without it.
# ORDERSTREAM_SKIP_BUILD=1 skips the build (the caller has built the solution already).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=lib.sh
source "$ROOT/deploy/local/lib.sh"

STATE=${ORDERSTREAM_STATE:-$ROOT/.local}
PG_PORT=${PG_PORT:-55432}
REDIS_PORT=${REDIS_PORT:-56379}
TRACE_VIEWER=${TRACE_VIEWER:-on}
TRACE_VIEWER_PORT=${TRACE_VIEWER_PORT:-18888}
TRACE_VIEWER_OTLP_GRPC_PORT=${TRACE_VIEWER_OTLP_GRPC_PORT:-18889}
TRACE_VIEWER_OTLP_HTTP_PORT=${TRACE_VIEWER_OTLP_HTTP_PORT:-18890}
# One partition per topic: every service runs one consumer here, so more partitions buy no
# parallelism, and each fetch that returns data costs the embedded cluster a search of its partition's
# log (kept short by trimming consumed records; docs/performance.md). The tests' own clusters keep
# several partitions.
KAFKA_PARTITIONS=${KAFKA_PARTITIONS:-1}
SEED_SKUS=${SEED_SKUS:-10}
SEED_QTY=${SEED_QTY:-1000}
PAYMENT_DECLINE_RATE=${PAYMENT_DECLINE_RATE:-0}
CONFIG=${CONFIGURATION:-Release}
PGBIN=/usr/lib/postgresql/15/bin
STACK_DLL="$ROOT/deploy/OrderStream.Stack/bin/$CONFIG/net10.0/OrderStream.Stack.dll"
# PostgreSQL refuses to run as root; the postgres account from the Debian package runs it then.
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

# Supervisors and the watchdog first, so nothing is started again while the stack stops; then every
# process by its pid file; then PostgreSQL. The 'stopping' mark also stops a service a supervisor was
# starting at that very moment (it checks the mark after writing its pid file).
stop_stack() {
  [ -d "$STATE" ] || return 0
  touch "$STATE/stopping"
  local pidfile pid
  for pidfile in "$STATE"/supervisors/*.pid; do
    [ -e "$pidfile" ] || continue
    pid=$(cat "$pidfile")
    if [ "$pid" != "$BASHPID" ]; then
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    fi
    rm -f "$pidfile"
  done
  for pidfile in "$STATE"/*.pid; do
    [ -e "$pidfile" ] || continue
    kill "$(cat "$pidfile")" 2>/dev/null || true
  done
  # give the services 5 s in all to leave their consumer groups (without Kafka they cannot), then make sure
  local deadline=$((SECONDS + 5))
  for pidfile in "$STATE"/*.pid; do
    [ -e "$pidfile" ] || continue
    pid=$(cat "$pidfile")
    while kill -0 "$pid" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$pidfile"
  done
  if [ -f "$STATE/pg/postmaster.pid" ]; then as_pg "$PGBIN/pg_ctl" -D "$STATE/pg" -m fast stop >/dev/null 2>&1 || true; fi
  rm -f "$STATE/stopping"
}

wait_for() { # url seconds
  local deadline=$((SECONDS + $2))
  until curl -fs -o /dev/null "$1"; do
    [ $SECONDS -lt $deadline ] || { echo "Timed out waiting for $1" >&2; return 1; }
    sleep 0.2
  done
}

# A line for the supervisor's log, also on run.sh's output (in the foreground; 'start' has returned).
supervisor_log() {
  echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) $*" >>"$STATE/supervisor.log"
  echo "$*"
}

# A sleep that ends with the loop that runs it, so stopping leaves no stray sleep behind.
nap() { sleep "$1" & NAP=$!; wait "$NAP" || true; NAP=; }

# Runs "$@" (a function that ends in exec) as <name>, starts it again whenever it exits, and never
# returns. The child writes its own pid file before the exec, so the file holds the service's own pid.
# Its log is written from the start (>), not appended to (>>): on this machine, the gateway's line per
# order appended (O_APPEND) cost 15-20 % of the saga's peak (docs/performance.md, twelfth round). So a
# restart first moves the previous run's output to <name>.log.1.
supervise() { # name command...
  local name=$1; shift
  local backoff=1 started code pid
  NAP=
  trap '[ -z "$NAP" ] || kill "$NAP" 2>/dev/null; exit 0' TERM
  while true; do
    started=$SECONDS
    ( echo "$BASHPID" >"$STATE/$name.pid"; [ ! -e "$STATE/stopping" ] || exit 0; "$@" ) </dev/null >"$STATE/$name.log" 2>&1 &
    pid=$!
    code=0; wait "$pid" || code=$?
    [ ! -e "$STATE/stopping" ] || exit 0
    if [ $((SECONDS - started)) -ge 60 ]; then backoff=1; fi
    mv -f "$STATE/$name.log" "$STATE/$name.log.1" 2>/dev/null || true
    supervisor_log "$name exited (code $code); restarting in ${backoff}s (its output: $STATE/$name.log.1)"
    nap "$backoff"
    backoff=$((backoff * 2)); if [ "$backoff" -gt 10 ]; then backoff=10; fi
  done
}

# Starts a supervisor in the background; after 'start' returns it must not hold the caller's output open.
# Its stderr is dropped: bash reports a killed child there ("line N: <pid> Killed ..."), which
# supervisor_log already says better.
start_supervised() { # name command...
  mkdir -p "$STATE/supervisors"
  if [ "$MODE" = up ]; then supervise "$@" 2>/dev/null & else supervise "$@" </dev/null >/dev/null 2>&1 & fi
  echo $! >"$STATE/supervisors/$1.pid"
}

run_dotnet() { # dll port env...
  local dll=$1 port=$2; shift 2
  exec env "$@" ASPNETCORE_URLS="http://127.0.0.1:$port" dotnet "$dll"
}

start_service() { # name dll port env...
  local name=$1 dll=$2 port=$3; shift 3
  start_supervised "$name" run_dotnet "$dll" "$port" "$@"
}

# Waits for each port's /readyz; on a timeout shows the logs and stops everything.
wait_ready() { # port...
  local port
  for port in "$@"; do
    wait_for "http://127.0.0.1:$port/readyz" 60 || { tail -n 30 "$STATE"/*.log >&2; stop_stack; exit 1; }
  done
}

# The viewer runs only when nothing else receives the traces: with the caller's own endpoint it would stay empty.
viewer_wanted() { [ "$TRACE_VIEWER" != off ] && [ -z "${OTEL_EXPORTER_OTLP_ENDPOINT:-}" ]; }

# The Aspire Dashboard in standalone mode: traces, metrics and logs by OTLP, kept in memory only. The build
# wrote where restore put the executable. It runs without a login (anonymous UI, OTLP and telemetry API)
# only because every port is bound to 127.0.0.1: nothing off this machine can reach it.
run_trace_viewer() {
  cd "$STATE"
  exec env ASPNETCORE_URLS="http://127.0.0.1:$TRACE_VIEWER_PORT" \
    ASPIRE_DASHBOARD_OTLP_ENDPOINT_URL="http://127.0.0.1:$TRACE_VIEWER_OTLP_GRPC_PORT" \
    ASPIRE_DASHBOARD_OTLP_HTTP_ENDPOINT_URL="http://127.0.0.1:$TRACE_VIEWER_OTLP_HTTP_PORT" \
    ASPIRE_DASHBOARD_UNSECURED_ALLOW_ANONYMOUS=true "$(cat "$ROOT/deploy/OrderStream.TraceViewer/bin/$CONFIG/net10.0/trace-viewer.path")"
}

# In the foreground (redis-server's default), so its supervisor sees it exit. A cache: starting it
# again empty loses nothing the services cannot read again.
run_redis() {
  exec redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no --dir "$STATE" --logfile "$STATE/redis.log"
}

# What is not restarted: the embedded Kafka cluster keeps its events in memory, so a new one would have
# lost every saga in flight; PostgreSQL is not expected to die at all, and its dying says something is
# badly wrong. Either one gone: the reason is logged and this returns 1, and the whole stack stops.
core_alive() {
  local kafka pg
  kafka=$(cat "$STATE/kafka.pid" 2>/dev/null || true)
  pg=$(head -n 1 "$STATE/pg/postmaster.pid" 2>/dev/null || true)
  if [ -z "$kafka" ] || ! kill -0 "$kafka" 2>/dev/null; then
    supervisor_log "The embedded Kafka cluster exited (its events were in memory only): stopping the whole stack; see $STATE/kafka.log"
    return 1
  fi
  if [ -z "$pg" ] || ! kill -0 "$pg" 2>/dev/null; then
    supervisor_log "PostgreSQL exited: stopping the whole stack; see $STATE/pgrun/postgres.log"
    return 1
  fi
}

# After 'start' has returned, this watches the core in the background (in the foreground, run.sh's own loop does).
watchdog() {
  NAP=
  trap '[ -z "$NAP" ] || kill "$NAP" 2>/dev/null; exit 0' TERM
  while core_alive; do nap 1; done
  stop_stack
  supervisor_log "Stopped."
}

up() {
  ensure_packages
  stop_stack
  rm -rf "$STATE" && mkdir -p "$STATE"
  if [ "${ORDERSTREAM_SKIP_BUILD:-0}" = 1 ]; then
    echo "Not building (ORDERSTREAM_SKIP_BUILD=1) ..."
  else
    echo "Building ($CONFIG) ..."
    dotnet build "$ROOT/OrderStream.sln" -c "$CONFIG" -v quiet -nologo >"$STATE/build.log" 2>&1 || { cat "$STATE/build.log"; exit 1; }
  fi
  if viewer_wanted; then
    echo "Starting the trace viewer on 127.0.0.1:$TRACE_VIEWER_PORT ..."
    start_supervised trace-viewer run_trace_viewer
  fi

  # The catalogue's databases, asked while PostgreSQL starts (a .NET start costs a few tenths of a second).
  dotnet "$STACK_DLL" databases >"$STATE/databases" 2>"$STATE/stack.log" &
  local asked=$!

  echo "Starting PostgreSQL on 127.0.0.1:$PG_PORT ..."
  mkdir -p "$STATE/pg" "$STATE/pgrun"
  [ "$(id -u)" -ne 0 ] || chown postgres "$STATE/pg" "$STATE/pgrun"
  as_pg "$PGBIN/initdb" -D "$STATE/pg" -U postgres --auth-local=trust --auth-host=scram-sha-256 >"$STATE/initdb.log"
  # Commits stay durable (synchronous_commit and fsync at their defaults). A larger buffer cache, and
  # checkpoints far enough apart that a benchmark does not pay for one (each is followed by full-page
  # images in the WAL), as a production server would be set up. Random reads priced as what they are
  # here (cached pages, not disk seeks): with the default (4), a statement prepared while its table
  # was small keeps a sequential-scan plan as the table grows, until autovacuum's next ANALYZE, and a
  # burst right after a start slowed every saga to seconds. PG_OPTIONS adds or overrides settings.
  as_pg "$PGBIN/pg_ctl" -D "$STATE/pg" -l "$STATE/pgrun/postgres.log" -w \
    -o "-p $PG_PORT -k $STATE/pgrun -c listen_addresses=127.0.0.1 -c max_connections=${PG_MAX_CONNECTIONS:-250} \
        -c shared_buffers=1GB -c wal_buffers=32MB -c max_wal_size=8GB -c checkpoint_timeout=30min \
        -c random_page_cost=1.1 -c effective_cache_size=4GB ${PG_OPTIONS:-}" start >/dev/null
  wait "$asked" || { cat "$STATE/stack.log" >&2; stop_stack; exit 1; }
  local databases; mapfile -t databases <"$STATE/databases"
  declare -A CS
  for svc in "${databases[@]}"; do
    local password; password=$(openssl rand -hex 16)
    as_pg "$PGBIN/psql" -q -h "$STATE/pgrun" -p "$PG_PORT" -U postgres -d postgres \
      -v name="$svc" -v password="$password" -f "$ROOT/deploy/postgres/service-database.sql" >/dev/null
    # Pools are capped so the services together stay below max_connections: under a burst, a request
    # waits for a pooled connection instead of failing with "too many connections".
    CS[$svc]="Host=127.0.0.1;Port=$PG_PORT;Database=$svc;Username=$svc;Password=$password;Maximum Pool Size=${PG_POOL_SIZE:-40}"
  done
  # The token signing key pair: made per start under $STATE/identity (the private key mode 600, never
  # committed), so tokens of an earlier start stop working. Every service validates tokens with the public
  # key (the dashboard too, for the tokens people sign in with); ordersctl token, the load tool and the
  # dashboard's load test page mint them with the private one.
  dotnet "$STACK_DLL" identity --state "$STATE" 2>>"$STATE/stack.log" || { cat "$STATE/stack.log" >&2; stop_stack; exit 1; }
  # For 'run.sh check': the checker reads every database with its service's role.
  # The plan reads it too (OrderStream.Stack's LocalStackState), as does the load tool's benchmark.
  (umask 077; for svc in "${databases[@]}"; do echo "${svc^^}_DB='${CS[$svc]}'"; done >"$STATE/connections.env")

  echo "Starting redis-server on 127.0.0.1:$REDIS_PORT ..."
  start_supervised redis run_redis

  echo "Starting the embedded Kafka cluster ..."
  local bin="bin/$CONFIG/net10.0"
  dotnet "$ROOT/deploy/OrderStream.EmbeddedKafka/$bin/OrderStream.EmbeddedKafka.dll" \
    --partitions "$KAFKA_PARTITIONS" --bootstrap-file "$STATE/kafka.bootstrap" </dev/null >"$STATE/kafka.log" 2>&1 &
  echo $! >"$STATE/kafka.pid"
  disown # its death is reported by core_alive, not by bash's "Killed" line
  local deadline=$((SECONDS + 30))
  until [ -s "$STATE/kafka.bootstrap" ]; do [ $SECONDS -lt $deadline ] || { cat "$STATE/kafka.log"; exit 1; }; sleep 0.1; done
  local kafka; kafka=$(cat "$STATE/kafka.bootstrap")

  local traces="not exported (TRACE_VIEWER=off)" links=()
  if viewer_wanted; then
    wait_for "http://127.0.0.1:$TRACE_VIEWER_PORT/" 30 || { cat "$STATE/trace-viewer.log" >&2; stop_stack; exit 1; }
    # The exporters' default protocol is gRPC; a caller who chose http/protobuf gets the viewer's OTLP/HTTP port.
    local otlp_port=$TRACE_VIEWER_OTLP_GRPC_PORT
    [ "${OTEL_EXPORTER_OTLP_PROTOCOL:-grpc}" = grpc ] || otlp_port=$TRACE_VIEWER_OTLP_HTTP_PORT
    export OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:$otlp_port"
    traces="http://127.0.0.1:$TRACE_VIEWER_PORT   (Aspire Dashboard; one order's trace: /traces?filters=order.id:equals:<orderId>)"
    # Decided here: from now on our own OTEL_EXPORTER_OTLP_ENDPOINT is set, and viewer_wanted says no.
    links=(--set "frontend:Traces__OrderLink=http://127.0.0.1:$TRACE_VIEWER_PORT/traces?filters=order.id:equals:{orderId}")
  elif [ -n "${OTEL_EXPORTER_OTLP_ENDPOINT:-}" ]; then
    traces="exported to $OTEL_EXPORTER_OTLP_ENDPOINT (OTEL_EXPORTER_OTLP_ENDPOINT; no local viewer)"
  fi

  # Every OTEL_* variable of the caller's environment passes through to the services.
  # Six .NET processes share this machine's cores: workstation GC and no spinning for pool work, since
  # server GC's per-core heaps and threads that spin before sleeping cost more here than they give.
  # Gen0 is capped at 4 MiB: the GC sizes it from the L3 cache, which a VM may report as hundreds of
  # MiB (260 here), and each collection of a gen0 that large stopped a service for 40-90 ms.
  # The dashboard (a frontend) is a client of the gateway (with the operator key, which never reaches the
  # browser), and reads the databases and Kafka only for the load test's books check, with the checker's settings.
  (umask 077; dotnet "$STACK_DLL" plan --root "$ROOT" --state "$STATE" --redis "127.0.0.1:$REDIS_PORT" --configuration "$CONFIG" \
    --service-name-prefix "${OTEL_SERVICE_NAME_PREFIX:-}" \
    --set "saga:Kafka__FetchWaitMaxMs=${KAFKA_FETCH_WAIT_MAX_MS:-5}" --set "saga:DOTNET_gcServer=${DOTNET_gcServer:-0}" \
    --set "saga:DOTNET_ThreadPool_UnfairSemaphoreSpinLimit=${DOTNET_ThreadPool_UnfairSemaphoreSpinLimit:-0}" \
    --set "saga:DOTNET_GCgen0size=${DOTNET_GCgen0size:-0x400000}" --set "payment:Payment__DeclineRate=$PAYMENT_DECLINE_RATE" \
    --set "frontend:DOTNET_gcServer=${DOTNET_gcServer:-0}" --set "frontend:DOTNET_GCgen0size=${DOTNET_GCgen0size:-0x400000}" \
    --set "mock:DOTNET_gcServer=${DOTNET_gcServer:-0}" --set "mock:DOTNET_GCgen0size=${DOTNET_GCgen0size:-0x400000}" \
    "${links[@]}" >"$STATE/plan.tsv" 2>"$STATE/stack.log") || { cat "$STATE/stack.log" >&2; stop_stack; exit 1; }

  # The plan, one process a line in start order: name, key, kind, port, dll, then NAME=value settings (tab-separated;
  # each field is passed as one argument, never evaluated). The mock vendors and the saga services start together
  # (inventory syncs a vendor that is not up yet at its next interval); a frontend waits until every process before
  # it is ready, since it is their client.
  echo "Starting the services ..."
  local fields starting=() plan_keys=()
  declare -A PORT
  while IFS=$'\t' read -r -a fields <&3; do
    PORT[${fields[1]}]=${fields[3]}
    plan_keys+=("${fields[1]}")
    if [ "${fields[2]}" = frontend ]; then
      wait_ready "${starting[@]}"; starting=()
      echo "Starting the ${fields[0]} ..."
    fi
    start_service "${fields[0]}" "${fields[4]}" "${fields[3]}" "${fields[@]:5}"
    starting+=("${fields[3]}")
  done 3<"$STATE/plan.tsv"
  wait_ready "${starting[@]}"
  local dashboard="http://127.0.0.1:${PORT[dashboard]}
                  (sign in with a token: deploy/local/ordersctl token --role admin --user ada --ttl 8h;
                   a customer sees their own orders, a seller the stock, an admin everything: docs/security.md)"

  echo "Seeding $SEED_SKUS SKUs with $SEED_QTY units each, priced 4.99, 9.99, 14.99, ... EUR ..."
  # Stock, and the catalogue entry every order is priced from (a SKU without one is not for sale), are the
  # seller's: the seeding runs with a short-lived seller token, sent from a pipe (not the process list).
  local seller; seller=$(dotnet "$STACK_DLL" token --state "$STATE" --role seller --user run.sh --ttl 10m)
  for i in $(seq -f "%03g" 1 "$SEED_SKUS"); do
    curl -fs -o /dev/null -X POST "http://127.0.0.1:${PORT[inventory]}/inventory/SKU-$i/restock" \
      -H @<(printf 'Authorization: Bearer %s\n' "$seller") -H 'Content-Type: application/json' -d "{\"quantity\": $SEED_QTY}"
    curl -fs -o /dev/null -X PUT "http://127.0.0.1:${PORT[inventory]}/products/SKU-$i" \
      -H @<(printf 'Authorization: Bearer %s\n' "$seller") -H 'Content-Type: application/json' \
      -d "{\"name\": \"Demo product $i\", \"unitPrice\": $((10#$i * 5 - 1)).99, \"currency\": \"EUR\"}"
  done
  # The vendor-fed SKUs get their catalogue entries here; their stock comes from the vendors' sync, never from seeding.
  local sku name price
  while IFS=$'\t' read -r sku name price; do
    curl -fs -o /dev/null -X PUT "http://127.0.0.1:${PORT[inventory]}/products/$sku" \
      -H @<(printf 'Authorization: Bearer %s\n' "$seller") -H 'Content-Type: application/json' \
      -d "{\"name\": \"$name\", \"unitPrice\": $price, \"currency\": \"EUR\"}"
  done < <(dotnet "$STACK_DLL" vendor-products 2>>"$STATE/stack.log")

  local key others=""
  for key in "${plan_keys[@]}"; do
    case $key in gateway|dashboard) ;; *) others+=$(printf '  %-16s%s' "${key^}:" "http://127.0.0.1:${PORT[$key]}")$'\n' ;; esac
  done
  cat <<INFO

OrderStream is up.
  Gateway:        http://127.0.0.1:${PORT[gateway]}   (POST /orders, GET /orders/{id}, GET /inventory, GET /products)
  Dashboard:      $dashboard
  Traces:         $traces
${others}  PostgreSQL:     127.0.0.1:$PG_PORT (databases $(IFS=,; echo "${databases[*]}" | sed 's/,/, /g'))
  Redis:          127.0.0.1:$REDIS_PORT
  Kafka:          $kafka (embedded)
  Vendors:        mock vendor-a and vendor-b feed VND-A-00n and VND-B-00n (GET /admin/inventory/vendors;
                  chaos: curl -X PUT http://127.0.0.1:${PORT[vendorA]}/chaos -H 'Content-Type: application/json' -d '{"down":true}')
  Logs:           $STATE/*.log   (restarts of a crashed service: $STATE/supervisor.log)
  Tokens:         deploy/local/ordersctl token --role customer|seller|admin --user <id> [--ttl 8h]
                  (signed with $STATE/identity/, new at every start; docs/security.md)
Try:
  TOKEN=\$(deploy/local/ordersctl token --role customer --user alice)
  curl -si -X POST http://127.0.0.1:${PORT[gateway]}/orders -H "Authorization: Bearer \$TOKEN" -H 'Content-Type: application/json' \\
    -d '{"items":[{"sku":"SKU-001","qty":2,"price":9.99}],"currency":"EUR"}'
INFO
}

# The checker against the running stack: every database of connections.env (one --<database> each), the
# embedded Kafka cluster and the default consumer groups (the catalogue's consuming services).
check_stack() {
  [ -f "$STATE/connections.env" ] && [ -s "$STATE/kafka.bootstrap" ] ||
    { echo "No running stack under $STATE; start one with: $0 start" >&2; exit 2; }
  local line name value databases=()
  while IFS= read -r line; do # DATABASE_DB='connection string'
    name=${line%%_DB=*} value=${line#*_DB=\'}
    databases+=("--${name,,}" "${value%\'}")
  done <"$STATE/connections.env"
  local dll="$ROOT/deploy/OrderStream.Checker/bin/$CONFIG/net10.0/OrderStream.Checker.dll"
  [ -f "$dll" ] || dotnet build "$ROOT/deploy/OrderStream.Checker" -c "$CONFIG" -v quiet -nologo >/dev/null
  exec dotnet "$dll" "${databases[@]}" --kafka "$(cat "$STATE/kafka.bootstrap")" "$@"
}

MODE=${1:-up}
case "$MODE" in
  up)
    # Stop first and print after: with stdout piped (run.sh | tee), Ctrl+C may already have closed the pipe.
    trap 'trap "" PIPE; stop_stack; echo "Stopped." 2>/dev/null || true; exit 0' INT TERM HUP
    up
    echo "Press Ctrl+C to stop. A service that exits is started again; see $STATE/supervisor.log."
    while core_alive; do sleep 1; done
    stop_stack
    echo "Stopped." >&2
    exit 1 ;;
  start)
    up
    watchdog </dev/null >/dev/null 2>&1 &
    echo $! >"$STATE/supervisors/watchdog.pid" ;;
  stop) stop_stack; echo "Stopped." ;;
  check) shift; check_stack "$@" ;;
  *) echo "usage: $0 [up|start|stop|check [--json] [--wait <seconds>]]" >&2; exit 2 ;;
esac
