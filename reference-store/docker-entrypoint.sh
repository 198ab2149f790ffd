#!/bin/sh
# The image's entrypoint: the schema first, the seed users if asked, then the server as PID 1.
set -eu
python manage.py migrate --noinput
if [ -n "${STORE_SEED_PASSWORD:-}" ]; then python manage.py seed; fi
exec "$@"
