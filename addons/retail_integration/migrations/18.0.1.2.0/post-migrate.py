from odoo import SUPERUSER_ID, api


def migrate(cr, version):
    """Backends made before technical users existed get theirs."""
    env = api.Environment(cr, SUPERUSER_ID, {})
    env["retail.backend"].with_context(active_test=False).search(
        []
    )._ensure_technical_user()
