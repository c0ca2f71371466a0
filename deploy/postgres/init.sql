-- One PostgreSQL server, one database and one role per service; Grafana reads both, read-only.
-- Run once on an empty server by init.sh (Compose: /docker-entrypoint-initdb.d), with the passwords as
-- psql variables: psql -v alert_router_password=… -v billing_password=… -v grafana_password=… -f init.sql
\set ON_ERROR_STOP on

CREATE ROLE alert_router LOGIN PASSWORD :'alert_router_password';
CREATE ROLE billing LOGIN PASSWORD :'billing_password';
CREATE ROLE grafana LOGIN PASSWORD :'grafana_password';

CREATE DATABASE alert_router OWNER alert_router;
CREATE DATABASE billing OWNER billing;
-- Nobody but the owner (and Grafana, to read) connects to a service's database.
REVOKE ALL ON DATABASE alert_router FROM PUBLIC;
REVOKE ALL ON DATABASE billing FROM PUBLIC;
GRANT CONNECT ON DATABASE alert_router TO grafana;
GRANT CONNECT ON DATABASE billing TO grafana;

-- Tables the services create later are readable by Grafana (default privileges of each owner).
\connect alert_router
GRANT USAGE ON SCHEMA public TO grafana;
ALTER DEFAULT PRIVILEGES FOR ROLE alert_router IN SCHEMA public GRANT SELECT ON TABLES TO grafana;
\connect billing
GRANT USAGE ON SCHEMA public TO grafana;
ALTER DEFAULT PRIVILEGES FOR ROLE billing IN SCHEMA public GRANT SELECT ON TABLES TO grafana;
