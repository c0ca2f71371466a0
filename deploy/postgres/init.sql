-- One PostgreSQL server, one database per service (alert history, billing).
CREATE DATABASE alert_router;
CREATE DATABASE billing;
