#!/usr/bin/env bash
# Idempotent set-up on Debian/Ubuntu: installs what is missing and says what it does.
#   - Debian packages: PostgreSQL server, Django 3.2 + DRF + simplejwt + psycopg2, gunicorn, uvicorn,
#     curl (health check) and wrk (load benchmark). PyPI is not needed (see reference-store/requirements.txt).
#   - npm ci when node_modules is missing or older than package-lock.json.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '[setup] %s\n' "$*"; }
die() { printf '[setup] ERROR: %s\n' "$*" >&2; exit 1; }

PACKAGES=(postgresql python3 python3-django python3-djangorestframework python3-djangorestframework-simplejwt
  python3-psycopg2 gunicorn python3-uvicorn curl wrk flake8)
PYTHON=${PYTHON:-/usr/bin/python3}

# --- Node.js: Playwright needs 20 or newer (Debian 12's own nodejs is 18) ---
command -v node >/dev/null || die "Node.js 20+ is required (https://nodejs.org or NodeSource packages)"
node_major=$(node -p 'process.versions.node.split(".")[0]')
[ "$node_major" -ge 20 ] || die "Node.js 20+ is required, found $(node --version)"

# --- Debian packages ---
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  command -v apt-get >/dev/null || die "missing packages ${missing[*]} and no apt-get: install them by hand"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  say "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  if ! $SUDO apt-get install -y --no-install-recommends "${missing[@]}"; then
    say "apt-get install failed; refreshing the package lists and trying again"
    $SUDO apt-get update
    $SUDO apt-get install -y --no-install-recommends "${missing[@]}"
  fi
else
  say "Debian packages: all present"
fi

# --- Chromium for the browser check of the reports (npm run test:reports); optional: without it
#     that check skips, naming this script. Playwright's own browser download is not used. ---
if [ -z "${CHROMIUM_PATH:-}" ] && ! [ -x /usr/bin/chromium ]; then
  if command -v apt-get >/dev/null; then
    say "installing Debian's chromium (for the browser check of the reports)"
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends chromium \
      || say "WARNING: chromium did not install: npm run test:reports will skip (set CHROMIUM_PATH to a Chromium build)"
  fi
else
  say "chromium: ${CHROMIUM_PATH:-/usr/bin/chromium}"
fi

# --- the store's Python stack, under the interpreter the suite will use ---
"$PYTHON" -c 'import django, rest_framework, rest_framework_simplejwt, psycopg2, gunicorn, uvicorn' 2>/dev/null \
  || die "$PYTHON cannot import Django/DRF/simplejwt/psycopg2/gunicorn/uvicorn (set PYTHON to Debian's /usr/bin/python3)"
say "python: $("$PYTHON" -c 'import django, rest_framework, gunicorn; print("Django", django.get_version(), "DRF", rest_framework.VERSION, "gunicorn", gunicorn.__version__)')"

# --- PostgreSQL binaries (the suite runs its own private cluster; the machine's own is left alone) ---
ls -d /usr/lib/postgresql/*/bin >/dev/null 2>&1 || [ -n "${PG_BIN:-}" ] || die "no /usr/lib/postgresql/*/bin: install postgresql or set PG_BIN"
if [ "$(id -u)" -eq 0 ] && ! id postgres >/dev/null 2>&1; then
  die "running as root needs the postgres user (created by the postgresql package) to run the private cluster"
fi

# --- npm dependencies ---
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "npm ci"
  npm ci --no-audit --no-fund
else
  say "node_modules: up to date"
fi
mkdir -p reports
say "done"
