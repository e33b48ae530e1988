-- One service's database and the one role that may use it. Run with psql as a superuser:
--   psql -v name=inventory -v password=... -f service-database.sql
-- Used by deploy/local/run.sh, deploy/compose/postgres-init.sh and the test fixtures alike.
-- The role owns its database (its migrations create the tables) and has no other rights: no
-- superuser, no CREATEDB/CREATEROLE, and PUBLIC may not connect to any service database.
\set ON_ERROR_STOP on
CREATE ROLE :"name" LOGIN PASSWORD :'password'
    NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
CREATE DATABASE :"name" OWNER :"name";
REVOKE ALL ON DATABASE :"name" FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE :"name" TO :"name";
\connect :"name"
-- PostgreSQL 15: public belongs to pg_database_owner (= the service role); keep others out.
REVOKE ALL ON SCHEMA public FROM PUBLIC;
