#!/bin/sh
# Runs once, when the official postgres image initialises an empty data folder
# (/docker-entrypoint-initdb.d): the read-only role the suite's probes use (DATABASE_URL).
# The store's tables do not exist yet (the store migrates at its start), so the grant is a default
# privilege on what the owner will create.
set -eu
: "${SHOP_READER_PASSWORD:?set SHOP_READER_PASSWORD}"
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v reader_password="$SHOP_READER_PASSWORD" <<'SQL'
CREATE ROLE shop_reader LOGIN PASSWORD :'reader_password';
GRANT CONNECT ON DATABASE shop TO shop_reader;
GRANT USAGE ON SCHEMA public TO shop_reader;
ALTER DEFAULT PRIVILEGES FOR ROLE shop_owner IN SCHEMA public GRANT SELECT ON TABLES TO shop_reader;
ALTER DEFAULT PRIVILEGES FOR ROLE shop_owner IN SCHEMA public GRANT SELECT ON SEQUENCES TO shop_reader;
SQL
