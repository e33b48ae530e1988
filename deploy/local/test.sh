#!/usr/bin/env bash
# Runs every test (unit, component, integration, system, fault and browser) on this machine, without Docker.
# Installs what is missing (PostgreSQL 15, redis-server, Chromium; the Kafka client comes from NuGet), builds, and runs `dotnet test`;
# the test fixtures start a private PostgreSQL cluster, redis-server and embedded Kafka clusters on
# free ports and stop them afterwards. ORDERSTREAM_TEST_INFRA=containers runs Apache Kafka, PostgreSQL
# and Redis in Docker containers instead (Testcontainers; README.md, "Tests against real Kafka").
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=lib.sh
source "$ROOT/deploy/local/lib.sh"
ensure_packages --browser
cd "$ROOT"
dotnet build OrderStream.sln -c Release -nologo -v quiet
dotnet test OrderStream.sln -c Release --no-build -nologo "$@"
