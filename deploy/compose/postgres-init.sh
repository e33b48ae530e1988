#!/usr/bin/env bash
# Runs once, when the postgres container initialises an empty data directory
# (/docker-entrypoint-initdb.d). Creates one database and one least-privilege role per
# service with deploy/postgres/service-database.sql (mounted at /orderstream): one for each
# <NAME>_DB_PASSWORD variable of the container, so the list lives in docker-compose.yml only.
set -euo pipefail

for variable in $(compgen -e | grep '_DB_PASSWORD$'); do
  name=${variable%_DB_PASSWORD}
  psql --quiet --username "$POSTGRES_USER" --dbname postgres \
       -v name="${name,,}" -v password="${!variable}" -f /orderstream/service-database.sql
done
