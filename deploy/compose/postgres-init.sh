#!/usr/bin/env bash
# Runs once, when the postgres container initialises an empty data directory
# (/docker-entrypoint-initdb.d). Creates one database and one least-privilege role per
# service with deploy/postgres/service-database.sql (mounted at /orderstream).
set -euo pipefail

create_service_db() {
  psql --quiet --username "$POSTGRES_USER" --dbname postgres \
       -v name="$1" -v password="$2" -f /orderstream/service-database.sql
}

create_service_db gateway      "${GATEWAY_DB_PASSWORD:?}"
create_service_db inventory    "${INVENTORY_DB_PASSWORD:?}"
create_service_db payment      "${PAYMENT_DB_PASSWORD:?}"
create_service_db materializer "${MATERIALIZER_DB_PASSWORD:?}"
