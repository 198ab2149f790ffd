#!/usr/bin/env bash
# The runbook's mini health check, compatible with it (BASE_URL, JWT_TOKEN), fixed so that it
# exits non-zero when any check is not 2xx and says which one failed. The original's `set -e`
# never fired on a bad status (curl succeeds on a 503) and made a refused connection exit
# silently; here every check runs and the failures are counted.
# Run: JWT_TOKEN=<...> BASE_URL=http://localhost:8000 ./scripts/health-check.sh
set -u

BASE_URL=${BASE_URL:-http://localhost:8000}
JWT=${JWT_TOKEN:?JWT_TOKEN required}
TIMEOUT_S=${HEALTH_TIMEOUT_S:-10}
failed=0

check() {
  local url=$1
  local http_code
  # the header comes from stdin (curl -H @-): a token on the command line is readable by every local user in ps
  http_code=$(printf 'Authorization: Bearer %s\n' "$JWT" | curl -s -o /dev/null -w "%{http_code}" --max-time "$TIMEOUT_S" -H @- "$url")
  echo "$http_code $url"
  case "$http_code" in
    2??) ;;
    000) echo "FAILED: $url: no answer (connection refused or timed out after ${TIMEOUT_S}s)" >&2; failed=$((failed + 1)) ;;
    *) echo "FAILED: $url answered $http_code" >&2; failed=$((failed + 1)) ;;
  esac
}

check "$BASE_URL/api/store/products/"
check "$BASE_URL/api/store/order-requests/"
check "$BASE_URL/api/store/brands/"

if [ "$failed" -gt 0 ]; then
  echo "health check: $failed of 3 checks failed" >&2
  exit 1
fi
