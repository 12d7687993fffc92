"""A copy of the test database neutralized by ``odoo-bin neutralize``, then
served by a real ``--workers=2`` server: no backend exchanges data, no
subscription sends, no queued channel job is left, every webhook endpoint
refuses what channels post (503, nothing stored), and the web client shows
the neutralized banner.

The copy is taken with ``createdb -T``, or with pg_dump while the session's
server holds connections to the test database (``createdb -T`` refuses
then), and dropped at the end.
"""

import configparser
import json
import shutil
import subprocess
import uuid
from contextlib import closing
from pathlib import Path

import psycopg2
import pytest
import requests
from conftest import ODOO_BIN, OdooServer


def _sql(db, query, params=None):
    with closing(psycopg2.connect(dbname=db)) as cnx, cnx, cnx.cursor() as cr:
        cr.execute(query, params)
        return cr.fetchall() if cr.description else None


def _filestore(conf, db):
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(conf)
    return Path(parser["options"]["data_dir"]) / "filestore" / db


@pytest.fixture(scope="module")
def neutralized_copy(odoo_env, tmp_path_factory):
    source = odoo_env["RETAIL_TEST_DB"]
    conf = odoo_env["RETAIL_TEST_ODOO_CONF"]
    copy = f"{source}_neutral_{uuid.uuid4().hex[:8]}"
    templated = subprocess.run(["createdb", "-T", source, copy], capture_output=True)
    try:
        if templated.returncode:
            subprocess.run(["createdb", copy], check=True)
            dump = subprocess.Popen(
                ["pg_dump", "--no-owner", source], stdout=subprocess.PIPE
            )
            subprocess.run(
                ["psql", "-q", "-v", "ON_ERROR_STOP=1", "-d", copy],
                stdin=dump.stdout,
                stdout=subprocess.DEVNULL,
                check=True,
            )
            assert dump.wait() == 0
        if _filestore(conf, source).is_dir():
            shutil.copytree(_filestore(conf, source), _filestore(conf, copy))
        # Production state to neutralize: a live backend with a queued job.
        _sql(copy, "UPDATE retail_backend SET state = 'active'")
        _sql(
            copy,
            """INSERT INTO queue_job (uuid, state, channel, model_name, method_name,
                                      name, date_created, records, args, kwargs)
               VALUES (%s, 'pending', 'root.retail.neutral', 'retail.backend',
                       'action_draft', 'copied job', now() at time zone 'UTC',
                       '{"_type": "odoo_recordset", "model": "retail.backend",
                         "ids": []}', '[]', '{}')""",
            [str(uuid.uuid4())],
        )
        result = subprocess.run(
            [odoo_env["RETAIL_TEST_PYTHON"], str(ODOO_BIN), "neutralize",
             "-c", conf, "-d", copy],
            capture_output=True,
            text=True,
            timeout=120,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr[-2000:]
        yield copy
    finally:
        subprocess.run(["dropdb", "--if-exists", "--force", copy], check=False)
        shutil.rmtree(_filestore(conf, copy), ignore_errors=True)


def test_neutralized_copy_exchanges_nothing(neutralized_copy, odoo_env, tmp_path):
    db = neutralized_copy
    assert _sql(db, "SELECT count(*) FROM retail_backend")[0][0] > 0
    assert _sql(db, "SELECT count(*) FROM retail_backend WHERE state = 'active'") == [
        (0,)
    ]
    assert _sql(
        db,
        "SELECT count(*) FROM retail_event_subscription "
        "WHERE active OR state != 'stopped'",
    ) == [(0,)]
    assert _sql(
        db,
        "SELECT count(*) FROM queue_job WHERE channel LIKE 'root.retail%%' "
        "AND state IN ('pending', 'enqueued', 'started', 'wait_dependencies')",
    ) == [(0,)]
    assert _sql(
        db, "SELECT count(*) FROM retail_webhook_endpoint WHERE NOT neutralized"
    ) == [(0,)]
    assert _sql(
        db,
        "SELECT value FROM ir_config_parameter WHERE key = 'database.is_neutralized'",
    ) == [("true",)]
    (token,) = _sql(
        db, "SELECT token FROM retail_webhook_endpoint WHERE active ORDER BY id LIMIT 1"
    )[0]
    messages = _sql(db, "SELECT count(*) FROM retail_inbound_message")[0][0]

    server = OdooServer(
        odoo_env["RETAIL_TEST_PYTHON"], odoo_env["RETAIL_TEST_ODOO_CONF"], db, tmp_path
    )
    server.start()
    try:
        response = requests.post(
            f"{server.url}/retail/webhook/{token}",
            data=json.dumps({"id": "evt_staging", "type": "order.created"}),
            headers={"Content-Type": "application/json"},
            timeout=30,
        )
        assert response.status_code == 503
        assert response.json()["error"] == "neutralized"
        assert (
            "oe_neutralize_banner"
            in requests.get(f"{server.url}/web/login", timeout=30).text
        )
    finally:
        server.stop()
    assert _sql(db, "SELECT count(*) FROM retail_inbound_message")[0][0] == messages
