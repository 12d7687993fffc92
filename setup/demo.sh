#!/usr/bin/env bash
# Starts a demo of the suite on http://127.0.0.1:8069 (login admin / admin).
# First run: installs everything and creates the database with demo data.
# Later runs: just start the server.
#   RETAIL_DEMO_DB   database name (default retail_demo)
#   RETAIL_DEMO_PORT HTTP port (default 8069)
#   RETAIL_DEMO_GEVENT_PORT websocket (gevent) port (default 8072)
#   RETAIL_DEMO_ALLOW_PRIVATE_URLS=1  outbox subscriptions may deliver to this
#                    machine or the LAN, e.g. a receiver on 127.0.0.1
#                    (retail_outbox_allow_private_urls; refused by default)
set -euo pipefail
# shellcheck source=setup/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

retail_setup demo
DB="${RETAIL_DEMO_DB:-retail_demo}"
PORT="${RETAIL_DEMO_PORT:-8069}"
ALLOW_PRIVATE=False
[ "${RETAIL_DEMO_ALLOW_PRIVATE_URLS:-}" != 1 ] || ALLOW_PRIVATE=True
MODULES="$(retail_modules)"
CONF="$RETAIL_LOCAL/odoo-demo.conf"
# The demo keeps its key in .local/secret.key: data encrypted in the demo
# database stays readable across runs. db_name and http_port tell
# setup/send_webhook.py where the demo is.
retail_write_conf "$CONF" "$(retail_demo_secret)" "db_name = $DB" \
  "http_port = $PORT" "retail_outbox_allow_private_urls = $ALLOW_PRIVATE"

# Which of the suite's modules are not installed yet in $DB (all of them
# when the database does not exist)?
missing="$("$VENV_PY" - "$DB" "$MODULES" <<'PY'
import sys, psycopg2
db, modules = sys.argv[1], sys.argv[2].split(",")
try:
    conn = psycopg2.connect(dbname=db)
except psycopg2.OperationalError:
    print(",".join(modules)); sys.exit()
with conn, conn.cursor() as cr:
    try:
        cr.execute("SELECT name FROM ir_module_module WHERE state = 'installed'")
        installed = {r[0] for r in cr.fetchall()}
    except psycopg2.Error:
        installed = set()
print(",".join(m for m in modules if m not in installed))
PY
)"
if [ -n "$missing" ]; then
  retail_log "installing $missing in database $DB with demo data (a minute or two)"
  # Odoo 18 loads demo data unless told otherwise; creates $DB if missing.
  "$VENV_PY" "$ODOO_BIN" -c "$CONF" -d "$DB" -i "$missing" --stop-after-init \
    --http-interface 127.0.0.1 --http-port "$PORT"
fi

echo
echo "  Retail Integration demo: http://127.0.0.1:$PORT/odoo"
echo "  login: admin   password: admin   (database $DB; Ctrl-C stops)"
[ "$ALLOW_PRIVATE" = False ] || echo "  outbox subscriptions may deliver to private addresses (127.0.0.1, the LAN)"
echo
# The demo carrier backend (retail_integration_carrier/demo/) calls a local
# stand-in of EasyPost's API on 127.0.0.1:8390: started beside the server and
# stopped with it. Without it the demo still runs; rating and labels with the
# demo carrier then say the carrier cannot be reached.
EASYPOST_STAND_IN="$RETAIL_ADDONS_DIR/retail_integration_carrier/tests/easypost_server.py"
if [ -f "$EASYPOST_STAND_IN" ]; then
  mkdir -p "$RETAIL_LOCAL"
  "$VENV_PY" "$EASYPOST_STAND_IN" --port 8390 \
    >"$RETAIL_LOCAL/easypost-stand-in.log" 2>&1 &
  STAND_IN_PID=$!
  trap 'kill "$STAND_IN_PID" 2>/dev/null || true' EXIT
fi
# -d and no --db-filter: queue_job's runner calls /queue_job/runjob without a
# session; a db-filter would make Odoo list databases on every job.
"$VENV_PY" "$ODOO_BIN" -c "$CONF" -d "$DB" --workers=2 --max-cron-threads=1 \
  --http-interface 127.0.0.1 --http-port "$PORT" \
  --gevent-port "${RETAIL_DEMO_GEVENT_PORT:-8072}"
