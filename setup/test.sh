#!/usr/bin/env bash
# Runs every test of the suite on a fresh database:
#   1. Odoo's own runner: install all modules WITH demo data and run their
#      tests (post_install and browser tests included);
#   2. the system tests in tests/ (pytest, a real Odoo server subprocess).
# The database is dropped at the end, also on failure or Ctrl-C.
# Last line of output: "retail-integration: N passed, N failed".
#
#   RETAIL_TEST_MODULES=mod1,mod2  only run these modules' Odoo tests
#                                  (all modules are still installed)
set -euo pipefail
# shellcheck source=setup/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

t0=$SECONDS
retail_setup test
MODULES="$(retail_modules)"
DB="retail_test_$("$VENV_PY" -c 'import secrets; print(secrets.token_hex(4))')"
# One config per run: a fresh secret key (tests must not depend on the
# demo's key), and concurrent runs do not overwrite each other's config.
CONF="$RETAIL_LOCAL/odoo-test-$DB.conf"
LOGDIR="$RETAIL_LOCAL/test-logs"
ODOO_LOG="$LOGDIR/odoo-tests.log"
JUNIT="$LOGDIR/pytest.xml"
ODOO_PID=

# Stop a running Odoo test process: a first SIGTERM only flags a test run,
# the second one exits it (and its Chromium); SIGKILL if it lingers.
stop_odoo() {
  [ -n "$ODOO_PID" ] || return 0
  kill -TERM "$ODOO_PID" 2>/dev/null || return 0
  sleep 1; kill -TERM "$ODOO_PID" 2>/dev/null || return 0
  for _ in $(seq 20); do kill -0 "$ODOO_PID" 2>/dev/null || return 0; sleep 0.5; done
  kill -KILL "$ODOO_PID" 2>/dev/null || true
}
cleanup() {
  stop_odoo
  # Drop the database and its filestore ("odoo db drop" does both).
  "$VENV_PY" "$ODOO_BIN" db -c "$CONF" drop "$DB" >/dev/null 2>&1 || {
    "$VENV_PY" -c "import psycopg2; c = psycopg2.connect(dbname='postgres'); c.autocommit = True; c.cursor().execute('DROP DATABASE IF EXISTS \"$DB\" WITH (FORCE)')" \
      || retail_log "could not drop database $DB"
    rm -rf "$RETAIL_LOCAL/data/filestore/$DB"
  }
  rm -f "$CONF"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$LOGDIR"
rm -f "$ODOO_LOG" "$JUNIT" "$LOGDIR/odoo-server.log"
retail_write_conf "$CONF" "$(retail_new_secret)"
retail_log "set-up done in $((SECONDS - t0)) s"

free_port() {
  "$VENV_PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# --- 1. Odoo tests -------------------------------------------------------------
# --test-tags limits the run to the suite's modules: without it Odoo also runs
# the tests of every dependency installed on the fresh database (base, web...).
TEST_TAGS="$(echo "${RETAIL_TEST_MODULES:-$MODULES}" | sed 's/^/\//; s/,/,\//g')"
args=(-c "$CONF" -d "$DB" -i "$MODULES" --test-enable --test-tags "$TEST_TAGS"
      --stop-after-init --log-level=test
      --http-interface 127.0.0.1 --http-port "$(free_port)")
retail_log "Odoo tests: installing $MODULES on $DB (log: $ODOO_LOG)"
t1=$SECONDS
# In the background + wait, so that Ctrl-C/TERM reach our trap at once (bash
# defers traps until a foreground command ends, and Odoo only stops a test run
# on a second signal).
"$VENV_PY" "$ODOO_BIN" "${args[@]}" > >(tee "$ODOO_LOG") 2>&1 &
ODOO_PID=$!
odoo_rc=0
wait "$ODOO_PID" || odoo_rc=$?
ODOO_PID=
odoo_secs=$((SECONDS - t1))

# Odoo 18 ends a --test-enable run with one line per database, logged by
# odoo.tests.result:
#   "N failed, N error(s) of N tests when loading database 'DB'"
read -r o_failed o_errors o_run < <(
  sed -n "s/.* odoo\.tests\.result: \([0-9]*\) failed, \([0-9]*\) error(s) of \([0-9]*\) tests when loading database '$DB'.*/\1 \2 \3/p" "$ODOO_LOG" \
  | tail -n1) || true
odoo_ok=1
if [ -z "${o_run:-}" ]; then
  retail_log "Odoo tests: no 'odoo.tests.result' summary line in the log (install failed?), exit status $odoo_rc"
  o_failed=0; o_errors=1; o_run=1; odoo_ok=0
fi
# Skipped tests are logged as "skipped <test> : <reason>".
o_skipped=$(grep -c ': skipped .* : ' "$ODOO_LOG" || true)
browser_skips=$(grep -E ': skipped .* : .*(Chrome executable not found|websocket-client module is not installed| not found$)' "$ODOO_LOG" || true)
if [ -n "$browser_skips" ]; then
  retail_log "Odoo tests: browser tests were SKIPPED (no usable browser):"
  echo "$browser_skips" >&2
  odoo_ok=0
fi
[ "$odoo_rc" -eq 0 ] || odoo_ok=0
[ $((o_failed + o_errors)) -eq 0 ] || odoo_ok=0
o_passed=$((o_run - o_failed - o_errors - o_skipped))
[ "$o_passed" -ge 0 ] || o_passed=0
retail_log "Odoo tests: $o_run run, $o_failed failed, $o_errors error(s), $o_skipped skipped, exit status $odoo_rc, ${odoo_secs} s"

# --- 2. System tests (pytest) ----------------------------------------------------
p_passed=0; p_bad=0; pytest_ok=1
if ! find "$RETAIL_ROOT/tests" -name 'test_*.py' -o -name '*_test.py' 2>/dev/null | grep -q .; then
  retail_log "system tests: no test file in tests/"
else
  t2=$SECONDS
  set +e
  (cd "$RETAIL_ROOT" && RETAIL_TEST_DB="$DB" RETAIL_TEST_ODOO_CONF="$CONF" RETAIL_TEST_PYTHON="$VENV_PY" \
     "$VENV_PY" -m pytest tests -q -p no:cacheprovider --junitxml="$JUNIT")
  pytest_rc=$?
  set -e
  # exit 5 = no tests collected although test files exist: a failure too.
  [ "$pytest_rc" -eq 0 ] || pytest_ok=0
  if [ -f "$JUNIT" ]; then
    read -r p_passed p_bad p_skipped < <("$VENV_PY" - "$JUNIT" <<'PY'
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
n = {k: sum(int(s.get(k, 0)) for s in suites) for k in ("tests", "failures", "errors", "skipped")}
print(n["tests"] - n["failures"] - n["errors"] - n["skipped"], n["failures"] + n["errors"], n["skipped"])
PY
)
  else
    p_bad=1; p_skipped=0
  fi
  [ "$pytest_rc" -eq 0 ] || [ "$p_bad" -gt 0 ] || p_bad=1
  retail_log "system tests: $p_passed passed, $p_bad failed, $p_skipped skipped, exit status $pytest_rc, $((SECONDS - t2)) s"
fi

passed=$((o_passed + p_passed))
failed=$((o_failed + o_errors + p_bad))
# A failing phase always counts at least one failure in the summary.
if [ "$odoo_ok" -eq 0 ] && [ $((o_failed + o_errors)) -eq 0 ]; then failed=$((failed + 1)); fi
cleanup; trap - EXIT
echo "retail-integration: $passed passed, $failed failed"
[ "$odoo_ok" -eq 1 ] && [ "$pytest_ok" -eq 1 ]
