#!/usr/bin/env bash
# Runs once, when the postgres container initialises an empty data directory
# (/docker-entrypoint-initdb.d). Creates one database and one role per service. Each
# role owns its own database (so its migrations can create tables there) and has no
# other rights: no superuser, no CREATEDB/CREATEROLE, and PUBLIC may not connect to
# any service database, so no service can reach another's data.
set -euo pipefail

create_service_db() {
  local name=$1 password=$2
  psql -v ON_ERROR_STOP=1 --quiet --username "$POSTGRES_USER" --dbname postgres \
       -v name="$name" -v password="$password" <<'SQL'
CREATE ROLE :"name" LOGIN PASSWORD :'password'
    NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
CREATE DATABASE :"name" OWNER :"name";
REVOKE ALL ON DATABASE :"name" FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE :"name" TO :"name";
\connect :"name"
-- PostgreSQL 15: public belongs to pg_database_owner (= the service role); keep others out.
REVOKE ALL ON SCHEMA public FROM PUBLIC;
SQL
}

create_service_db gateway      "${GATEWAY_DB_PASSWORD:?}"
create_service_db inventory    "${INVENTORY_DB_PASSWORD:?}"
create_service_db payment      "${PAYMENT_DB_PASSWORD:?}"
create_service_db materializer "${MATERIALIZER_DB_PASSWORD:?}"
