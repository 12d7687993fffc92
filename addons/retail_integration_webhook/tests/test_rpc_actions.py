from odoo import fields
from odoo.exceptions import UserError
from odoo.tests import HttpCase, tagged

from .common import WebhookCaseMixin


@tagged("retail", "-at_install", "post_install")
class TestActionsOverXmlRpc(WebhookCaseMixin, HttpCase):
    """Scripts drive the buttons over XML-RPC: an action that returned None
    did its work, then failed with "cannot marshal None", so the script
    believed it had failed. Every button of the core and inbound modules,
    called once as a script would."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_endpoints()
        cls.admin = cls.env.ref("base.user_admin")

    def _call(self, record, method):
        return self.xmlrpc_object.execute_kw(
            self.env.cr.dbname, self.admin.id, "admin", record._name, method,
            [record.ids],
        )  # fmt: skip

    def _failed_message(self):
        Message = self.env["retail.inbound.message"]
        message = Message._insert_once(
            self.endpoints["standard"],
            topic="ping",
            delivery_id="rpc-1",
            body='{"type": "ping"}',
            body_hash="h",
            headers={},
            state="processing",
            correlation_id="c",
        )
        failed = message._fail(
            UserError("No product has the SKU RPC-1."), fields.Datetime.now(), 1, 0
        )
        message._write_outcomes({message.id: failed})
        return message

    def test_every_button_answers_a_value(self):
        endpoint = self.endpoints["standard"]
        endpoint.secret_previous = "an-old-secret"
        message = self._failed_message()
        exception = message.exception_id
        calls = [
            (self.backend, "action_pause"),
            (self.backend, "action_activate"),
            (self.backend, "action_open_exceptions"),
            (endpoint, "action_regenerate_token"),
            (endpoint, "action_clear_previous_secret"),
            (endpoint, "action_open_messages"),
            (exception, "action_take"),
            (exception, "action_retry"),
            (exception, "action_resolve"),
            (exception, "action_reopen"),
            (exception, "action_dismiss"),
            (self.backend, "action_draft"),
            (self.backend, "action_clear_credentials"),
        ]
        for record, method in calls:
            with self.subTest(model=record._name, method=method):
                self.assertIsNotNone(self._call(record, method))
        self.assertEqual(exception.state, "dismissed")
        self.assertEqual(self.backend.state, "draft")
        self.assertEqual(message.state, "queued")  # the inbox's Retry re-queued it
        self.assertFalse(endpoint.secret_previous_is_set)

    def test_a_message_retry(self):
        message = self._failed_message()
        self.assertIs(self._call(message, "action_retry"), True)
        self.assertEqual(message.state, "queued")
