#!/bin/sh
# Compose runs this once, on the first start with an empty data volume (docker-entrypoint-initdb.d).
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
  -v alert_router_password="$ALERT_ROUTER_DB_PASSWORD" \
  -v billing_password="$BILLING_DB_PASSWORD" \
  -v grafana_password="$GRAFANA_DB_PASSWORD" \
  -f /etc/ispmon/postgres/init.sql
