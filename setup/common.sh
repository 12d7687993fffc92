# shellcheck shell=bash
# Shared set-up functions for setup/demo.sh and setup/test.sh. Source it, then
# call retail_setup <demo|test>. Everything here is idempotent: a second run
# only checks what the first one installed.
#
# Environment knobs (all optional):
#   PYTHON            interpreter used to create the venv (default python3)
#   RETAIL_VENV       project venv (default <repo>/.venv)
#   RETAIL_ADDONS_DIR addons of the suite (default <repo>/addons)
#   ODOO_SOURCE       local Odoo 18.0 source tree or .tar.gz/.zip archive
#   PGHOST/PGPORT/PGUSER/PGPASSWORD  PostgreSQL connection (default: local socket)
#   RETAIL_SECRET_KEY overrides the generated secret key

RETAIL_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RETAIL_ADDONS_DIR="${RETAIL_ADDONS_DIR:-$RETAIL_ROOT/addons}"
RETAIL_LOCAL="$RETAIL_ROOT/.local"
RETAIL_CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/retail-integration"
PY="${PYTHON:-python3}"
RETAIL_VENV="${RETAIL_VENV:-$RETAIL_ROOT/.venv}"
VENV_PY="$RETAIL_VENV/bin/python"
# Run Odoo as "$VENV_PY" "$ODOO_BIN" ... (see setup/odoo-bin for why not -m odoo).
ODOO_BIN="$RETAIL_ROOT/setup/odoo-bin"
ODOO_NIGHTLY_URL="https://nightly.odoo.com/18.0/nightly/src/odoo_18.0.latest.tar.gz"

retail_log() { echo "retail-integration: $*" >&2; }
# One clear line on stderr, exit 2 (distinct from "tests failed" = 1).
retail_die() { echo "retail-integration: $*" >&2; exit 2; }

retail_can_apt() { [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; }

retail_apt_install() {
  retail_log "installing Debian packages: $*"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >/dev/null \
    || { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >/dev/null; }
}

retail_pip() { "$VENV_PY" -m pip install -q --disable-pip-version-check "$@"; }

# --- venv -----------------------------------------------------------------
# --system-site-packages so an Odoo already installed in $PY is reused.
retail_venv() {
  command -v "$PY" >/dev/null 2>&1 || retail_die "python interpreter '$PY' not found; set PYTHON=/path/to/python3.11"
  if [ ! -x "$VENV_PY" ]; then
    retail_log "creating venv $RETAIL_VENV (from $PY, with system site-packages)"
    if ! "$PY" -m venv --system-site-packages "$RETAIL_VENV" 2>/dev/null; then
      rm -rf "$RETAIL_VENV"
      # Debian's python3 ships venv/ensurepip separately.
      if retail_can_apt && [ "$(command -v "$PY")" = /usr/bin/python3 ]; then
        retail_apt_install python3-venv python3-dev
        "$PY" -m venv --system-site-packages "$RETAIL_VENV"
      else
        retail_die "cannot create a venv with $PY (on Debian/Ubuntu: apt-get install python3-venv python3-dev)"
      fi
    fi
  fi
}

# --- Odoo -----------------------------------------------------------------
retail_odoo_ok() {
  "$VENV_PY" -c 'import sys, odoo.release as r; sys.exit(0 if tuple(r.version_info[:2]) == (18, 0) else 1)' >/dev/null 2>&1
}

# Is $1 an Odoo 18.0 source tree?
retail_is_odoo18_tree() {
  [ -f "$1/odoo/release.py" ] && [ -f "$1/requirements.txt" ] \
    && grep -Eq '^version_info = \(18, 0,' "$1/odoo/release.py"
}

# Extract an archive once into the cache; prints the tree's path.
retail_extract_odoo() {
  local archive="$1" dest="$RETAIL_CACHE/odoo-18.0" tmp top
  if retail_is_odoo18_tree "$dest"; then echo "$dest"; return 0; fi
  mkdir -p "$RETAIL_CACHE"
  tmp="$(mktemp -d "$RETAIL_CACHE/extract.XXXXXX")"
  retail_log "extracting $archive into $dest"
  case "$archive" in
    *.zip) "$VENV_PY" -m zipfile -e "$archive" "$tmp" ;;
    *) tar -xzf "$archive" -C "$tmp" ;;
  esac
  top="$(dirname "$(find "$tmp" -maxdepth 3 -path '*/odoo/release.py' | head -n1)")"
  top="$(dirname "$top")"
  if ! retail_is_odoo18_tree "$top"; then rm -rf "$tmp"; return 1; fi
  rm -rf "$dest"; mv "$top" "$dest"; rm -rf "$tmp"
  echo "$dest"
}

# Install an Odoo source tree into the venv (requirements, then editable).
retail_install_odoo_tree() {
  local tree="$1" cons
  retail_log "installing Odoo from $tree into $RETAIL_VENV (takes a few minutes)"
  # python-ldap and psycopg2 build from source: they need these headers.
  if retail_can_apt && command -v dpkg >/dev/null; then
    local missing=() p
    for p in libldap2-dev libsasl2-dev libpq-dev build-essential; do
      dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
    done
    [ "$PY" = /usr/bin/python3 ] && ! dpkg -s python3-dev >/dev/null 2>&1 && missing+=(python3-dev)
    [ ${#missing[@]} -eq 0 ] || retail_apt_install "${missing[@]}"
  fi
  # gevent imports pkg_resources at run time: setuptools<81.
  retail_pip wheel 'setuptools<81'
  # cbor2 5.4.2 only builds with setuptools<70; PIP_CONSTRAINT also reaches
  # pip's isolated build environments (pip < 25.3 has no --build-constraint).
  cons="$(mktemp)"; echo 'setuptools<70' >"$cons"
  PIP_CONSTRAINT="$cons" retail_pip -r "$tree/requirements.txt" || { rm -f "$cons"; return 1; }
  rm -f "$cons"
  # compat mode: a plain editable install breaks once an odoo-addon-* wheel
  # creates site-packages/odoo/ (import odoo then finds an empty namespace).
  retail_pip --no-build-isolation -e "$tree" --config-settings editable_mode=compat
}

retail_ensure_odoo() {
  local why tree archive
  if retail_odoo_ok; then return 0; fi
  why="no importable odoo 18.0 in $VENV_PY"
  if [ -n "${ODOO_SOURCE:-}" ]; then
    if [ -d "$ODOO_SOURCE" ]; then
      retail_is_odoo18_tree "$ODOO_SOURCE" || retail_die "ODOO_SOURCE=$ODOO_SOURCE is not an Odoo 18.0 source tree (no odoo/release.py with version 18.0)"
      tree="$(cd "$ODOO_SOURCE" && pwd)"
    elif [ -f "$ODOO_SOURCE" ]; then
      tree="$(retail_extract_odoo "$ODOO_SOURCE")" || retail_die "ODOO_SOURCE=$ODOO_SOURCE is not an Odoo 18.0 source archive"
    else
      retail_die "ODOO_SOURCE=$ODOO_SOURCE does not exist"
    fi
  else
    why="$why, ODOO_SOURCE is not set"
    archive="$RETAIL_CACHE/odoo_18.0.latest.tar.gz"
    if [ ! -s "$archive" ]; then
      mkdir -p "$RETAIL_CACHE"
      retail_log "downloading the official Odoo 18.0 source ($ODOO_NIGHTLY_URL)"
      if ! curl -fsSL --connect-timeout 15 --max-time 900 -o "$archive.part" "$ODOO_NIGHTLY_URL" 2>/dev/null; then
        rm -f "$archive.part"
        retail_die "Odoo 18.0 not found: $why, and the official source could not be downloaded. Set ODOO_SOURCE=/path/to/odoo-18.0 (source tree or archive) or install Odoo 18.0 into $PY."
      fi
      mv "$archive.part" "$archive"
    fi
    tree="$(retail_extract_odoo "$archive")" || retail_die "the downloaded $archive is not an Odoo 18.0 source archive; delete it or set ODOO_SOURCE"
  fi
  retail_install_odoo_tree "$tree" || retail_die "installing Odoo from $tree into $RETAIL_VENV failed (see pip output above)"
  retail_odoo_ok || retail_die "Odoo installed from $tree but 'import odoo' still fails in $VENV_PY"
}

# --- Python requirements of the suite, queue_job ----------------------------
# queue_job >= 18.0.1.7.1 calls odoo.api.private, missing from 2024 18.0 trees.
retail_queue_job_spec() {
  if "$VENV_PY" -c 'import sys, odoo.api as a; sys.exit(0 if hasattr(a, "private") else 1)' 2>/dev/null; then
    echo 'odoo-addon-queue_job>=18.0,<18.1'
  else
    echo 'odoo-addon-queue_job==18.0.1.7.0.1'
  fi
}

retail_ensure_requirements() {
  local spec stamp want
  spec="$(retail_queue_job_spec)"
  # Skip pip when nothing changed since the last successful install.
  stamp="$RETAIL_VENV/.retail-requirements"
  want="$(cat "$RETAIL_ROOT/requirements.txt"; echo "$spec setuptools>=70,<81")"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then return 0; fi
  retail_log "installing requirements.txt and $spec"
  # The default only-if-needed strategy keeps Odoo's pins (cryptography,
  # requests) untouched when they already satisfy our lower bounds.
  # setuptools 70..80: gevent (Odoo's websocket process under --workers) loads
  # its plugins through pkg_resources, which must exist (<81) and, before 70,
  # does not find distributions with normalized names (zope_interface-*.dist-info),
  # so that process crash-loops with DistributionNotFound.
  retail_pip -r "$RETAIL_ROOT/requirements.txt" "$spec" 'setuptools>=70,<81' \
    || retail_die "pip could not install requirements.txt / $spec into $RETAIL_VENV"
  printf '%s' "$want" >"$stamp"
}

# --- PostgreSQL -------------------------------------------------------------
# Prints nothing when PostgreSQL answers, else the error on one line.
# psycopg2/libpq honour PGHOST, PGPORT, PGUSER, PGPASSWORD.
retail_pg_error() {
  "$VENV_PY" - <<'PY' 2>&1
try:
    import psycopg2
    psycopg2.connect(dbname="postgres").close()
except Exception as e:  # noqa: BLE001
    print(" ".join(str(e).split()) or type(e).__name__)
PY
}

retail_ensure_postgres() {
  local err ver
  err="$(retail_pg_error)" || true
  [ -z "$err" ] && return 0
  # Only repair the default local set-up; a PGHOST/PGPORT pointing elsewhere
  # is the user's server.
  if [ -z "${PGHOST:-}${PGPORT:-}" ] && retail_can_apt; then
    command -v pg_lsclusters >/dev/null 2>&1 || retail_apt_install postgresql
    if ! pg_lsclusters -h 2>/dev/null | grep -q .; then
      ver="$(ls /usr/lib/postgresql | sort -V | tail -n1)"
      pg_createcluster "$ver" main >/dev/null
    fi
    pg_lsclusters -h | while read -r ver name _ status _; do
      [ "$status" = online ] || pg_ctlcluster --skip-systemctl-redirect "$ver" "$name" start
    done
    local user="${PGUSER:-$(id -un)}"
    su postgres -c "psql -tAc \"SELECT 1 FROM pg_roles WHERE rolname='$user'\"" | grep -q 1 \
      || su postgres -c "createuser --superuser '$user'"
    err="$(retail_pg_error)" || true
    [ -z "$err" ] && return 0
  fi
  retail_die "PostgreSQL does not answer (PGHOST=${PGHOST:-<local socket>} PGPORT=${PGPORT:-5432} PGUSER=${PGUSER:-$(id -un)}): ${err}. Start PostgreSQL and create a superuser role for this user, or point PGHOST/PGPORT/PGUSER/PGPASSWORD at a server."
}

# --- RabbitMQ (retail_integration_outbox_rabbitmq's tests) --------------------
# The broker on 127.0.0.1:5672 (guest/guest) with its stream protocol (5552).
# Its tests fail, never skip, without it: started (and installed as root on
# Debian/Ubuntu) when it does not answer.
retail_port_open() {
  "$VENV_PY" -c "import socket, sys; s = socket.socket(); s.settimeout(1); sys.exit(s.connect_ex(('127.0.0.1', $1)))"
}

retail_ensure_rabbitmq() {
  if ! retail_port_open 5672; then
    command -v rabbitmq-server >/dev/null 2>&1 || { retail_can_apt && retail_apt_install rabbitmq-server; }
    command -v rabbitmq-server >/dev/null 2>&1 \
      || retail_die "RabbitMQ is not installed: the outbox's RabbitMQ tests need a broker on 127.0.0.1:5672 (Debian/Ubuntu: apt-get install rabbitmq-server)"
    # No systemd in containers: start it detached, then wait for it.
    (service rabbitmq-server start || rabbitmq-server -detached) >/dev/null 2>&1 || true
    rabbitmqctl await_startup --timeout 60 >/dev/null 2>&1 || true
    retail_port_open 5672 || retail_die "RabbitMQ does not answer on 127.0.0.1:5672"
  fi
  if ! retail_port_open 5552; then
    rabbitmq-plugins enable rabbitmq_stream >/dev/null \
      || retail_die "cannot enable RabbitMQ's stream plugin (rabbitmq-plugins enable rabbitmq_stream)"
    for _ in $(seq 60); do retail_port_open 5552 && break; sleep 0.5; done
    retail_port_open 5552 || retail_die "RabbitMQ's stream plugin does not listen on 127.0.0.1:5552"
  fi
}

# --- Browser (HttpCase tours) -----------------------------------------------
# Without Chrome/Chromium or websocket-client, Odoo SKIPS browser tests and
# still exits 0, so we refuse to run without them.
retail_find_chrome() {
  local b
  for b in google-chrome chromium chromium-browser google-chrome-stable; do
    command -v "$b" 2>/dev/null && return 0
  done
  return 1
}

retail_ensure_browser() {
  if ! retail_find_chrome >/dev/null; then
    if retail_can_apt; then retail_apt_install chromium; fi
    retail_find_chrome >/dev/null || retail_die "no Chrome/Chromium found: browser tests would be skipped. Install chromium (Debian/Ubuntu: apt-get install chromium) or google-chrome."
  fi
  "$VENV_PY" -c 'import websocket' 2>/dev/null \
    || retail_die "python package websocket-client missing in $VENV_PY: browser tests would be skipped ($VENV_PY -m pip install websocket-client)"
}

# --- Suite layout, secrets, config --------------------------------------------
# Every folder of the addons dir with a __manifest__.py, comma-joined.
retail_modules() {
  local d out=()
  for d in "$RETAIL_ADDONS_DIR"/*/; do
    [ -f "$d/__manifest__.py" ] && out+=("$(basename "$d")")
  done
  (IFS=,; echo "${out[*]}")
}

retail_new_secret() {
  "$VENV_PY" -c 'import base64, os; print(base64.urlsafe_b64encode(os.urandom(32)).decode())'
}

# The demo keeps one key for good (encrypted data in the demo DB needs it).
retail_demo_secret() {
  local f="$RETAIL_LOCAL/secret.key"
  if [ ! -s "$f" ]; then
    mkdir -p "$RETAIL_LOCAL"
    (umask 077; retail_new_secret >"$f")
  fi
  chmod 600 "$f"
  cat "$f"
}

# Odoo's own addons: 'addons' beside the odoo package, and odoo/addons.
retail_odoo_addons_path() {
  "$VENV_PY" - <<'PY'
import os, odoo
paths = []
for p in odoo.__path__:
    if os.path.isfile(os.path.join(p, "release.py")):
        for c in (os.path.join(os.path.dirname(p), "addons"), os.path.join(p, "addons")):
            if os.path.isdir(c) and c not in paths:
                paths.append(c)
print(",".join(paths))
PY
}

# retail_write_conf <file> <secret key> [more "name = value" lines of [options]]
retail_write_conf() {
  local conf="$1" key="$2" tmp
  shift 2
  mkdir -p "$RETAIL_LOCAL/data" "$(dirname "$conf")"
  tmp="$(mktemp "$conf.XXXXXX")"
  {
    echo "# Generated by setup/common.sh; do not edit (rewritten on every run)."
    echo "[options]"
    echo "addons_path = $(retail_odoo_addons_path),$RETAIL_ADDONS_DIR"
    [ -n "${PGHOST:-}" ] && echo "db_host = $PGHOST"
    [ -n "${PGPORT:-}" ] && echo "db_port = $PGPORT"
    [ -n "${PGUSER:-}" ] && echo "db_user = $PGUSER"
    echo "data_dir = $RETAIL_LOCAL/data"
    echo "retail_secret_key = ${RETAIL_SECRET_KEY:-$key}"
    echo "server_wide_modules = web,queue_job,retail_integration"
    [ $# -eq 0 ] || printf '%s\n' "$@"
    echo
    echo "[queue_job]"
    echo "channels = root:4,root.retail:2"
  } >"$tmp"
  chmod 600 "$tmp"
  mv "$tmp" "$conf"
}

# Everything demo.sh/test.sh need, in order.
retail_setup() {
  local mode="$1"
  retail_venv
  retail_ensure_odoo
  retail_ensure_requirements
  retail_ensure_postgres
  if [ "$mode" = test ]; then
    retail_ensure_browser
    retail_ensure_rabbitmq
  fi
  [ -n "$(retail_modules)" ] || retail_die "no module (folder with __manifest__.py) under $RETAIL_ADDONS_DIR"
  return 0
}
