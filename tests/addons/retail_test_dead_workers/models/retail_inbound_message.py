import os
import signal
import time

from odoo import models


class RetailInboundMessage(models.Model):
    _inherit = "retail.inbound.message"

    def _webhook_handlers(self):
        return {
            **super()._webhook_handlers(),
            ("*", "test.kill_worker"): "_handle_test_kill_worker",
            ("*", "test.sleep"): "_handle_test_sleep",
        }

    def _handle_test_kill_worker(self, payload):
        """Dies as a worker past limit_time_real or out of memory does."""
        os.kill(os.getpid(), signal.SIGKILL)

    def _handle_test_sleep(self, payload):
        time.sleep(float(payload["data"]["seconds"]))
        return f"Slept {payload['data']['seconds']} s."
