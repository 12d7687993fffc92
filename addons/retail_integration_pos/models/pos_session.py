import psycopg2

from odoo import _, api, fields, models
from odoo.exceptions import UserError


class PosSession(models.Model):
    """A session of an external register is one business day of that
    register: several days may be open at once (a day waiting for late
    tickets while the next is sold), which Odoo's own sessions never are."""

    _inherit = "pos.session"

    retail_register_id = fields.Many2one(
        "retail.pos.register", "External Register", readonly=True, index=True
    )
    retail_business_date = fields.Date("Business Date", readonly=True)
    retail_rescue = fields.Boolean(
        "Rescue Session",
        readonly=True,
        help="Tickets that arrived after their business day was posted, "
        "posted on their own.",
    )

    def init(self):
        # One day session per register and date; besides it, at most one
        # rescue session of that day open at a time.
        self.env.cr.execute(
            """DROP INDEX IF EXISTS pos_session_retail_day_uniq;
               CREATE UNIQUE INDEX IF NOT EXISTS pos_session_retail_day_uniq2
               ON pos_session (retail_register_id, retail_business_date)
               WHERE retail_register_id IS NOT NULL AND retail_rescue IS NOT TRUE;
               CREATE UNIQUE INDEX IF NOT EXISTS pos_session_retail_rescue_uniq
               ON pos_session (retail_register_id, retail_business_date)
               WHERE retail_rescue AND state != 'closed'"""
        )

    @api.constrains("config_id")
    def _check_pos_config(self):
        return super(
            PosSession, self.filtered(lambda s: not s.retail_register_id)
        )._check_pos_config()

    @api.model
    def _retail_post_rescues(self, quiet_minutes=30):
        """Close and post the rescue sessions no late ticket joined for
        ``quiet_minutes``, in their backend's posting window; one that
        cannot close goes to the inbox."""
        quiet = fields.Datetime.subtract(fields.Datetime.now(), minutes=quiet_minutes)
        rescues = self.search(
            [
                ("retail_rescue", "=", True),
                ("state", "=", "opened"),
                ("write_date", "<", quiet),
            ]
        )
        posted = self.browse()
        for session in rescues:
            backend = session.retail_register_id.store_id.backend_id
            if backend._pos_post_eta():
                continue
            try:
                with self.env.cr.savepoint():
                    session.action_pos_session_closing_control()
                    self.env.flush_all()
            except (UserError, psycopg2.IntegrityError) as err:
                # sudo: inbox items are filed on the backend's behalf
                self.env["retail.sync.exception"].sudo()._report(
                    _(
                        "The rescue session %(session)s could not be closed: %(error)s",
                        session=session.name,
                        error=err.args[0] if err.args else err,
                    ),
                    backend=backend,
                    kind="configuration",
                    source=session,
                    key="pos:rescue",
                )
                continue
            posted |= session
        return posted
