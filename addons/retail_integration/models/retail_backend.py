import re

from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

CODE_PATTERN = re.compile(r"^[a-z0-9_]{1,40}$")


class RetailBackend(models.Model):
    """A channel the database is connected to: a storefront, a POS or a carrier."""

    _name = "retail.backend"
    _description = "Retail Channel Backend"
    _inherit = ["mail.thread", "retail.secret.mixin"]
    _order = "sequence, name, id"
    _check_company_auto = True
    _secret_fields = ("api_key", "api_secret")

    name = fields.Char(required=True, tracking=True)
    code = fields.Char(
        required=True,
        tracking=True,
        help="Short unique identifier (lowercase letters, digits, underscores). "
        "It names the backend's job channel root.retail.<code>.",
    )
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    channel_type = fields.Selection(
        [
            ("storefront", "Online Storefront"),
            ("pos", "Store POS"),
            ("carrier", "Carrier"),
        ],
        required=True,
        default="storefront",
        tracking=True,
    )
    provider = fields.Selection(
        [("generic", "Generic (canonical JSON)")],
        required=True,
        default="generic",
        tracking=True,
        help="Connector modules add their providers here.",
    )
    state = fields.Selection(
        [("draft", "Draft"), ("active", "Active"), ("paused", "Paused")],
        required=True,
        default="draft",
        tracking=True,
        help="Only active backends exchange data; a paused backend keeps its "
        "backlog until it is active again.",
    )
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company, index=True
    )
    warehouse_id = fields.Many2one(
        "stock.warehouse", string="Default Warehouse", check_company=True
    )
    pricelist_id = fields.Many2one("product.pricelist", check_company=True)
    team_id = fields.Many2one("crm.team", string="Sales Team", check_company=True)
    user_id = fields.Many2one(
        "res.users",
        string="Responsible",
        tracking=True,
        help="Person who follows this backend's exceptions.",
    )
    job_channel_id = fields.Many2one(
        "queue.job.channel",
        string="Job Channel Record",
        readonly=True,
        copy=False,
        ondelete="restrict",
    )
    job_channel = fields.Char(
        related="job_channel_id.complete_name", string="Job Channel", store=True
    )
    api_key = fields.Char(
        string="API Key",
        compute="_compute_secret_fields",
        inverse="_inverse_secret_fields",
        help="Stored encrypted; never displayed again once saved.",
    )
    api_key_sealed = fields.Char(copy=False, groups="base.group_system")
    api_key_is_set = fields.Boolean(compute="_compute_secret_is_set")
    api_secret = fields.Char(
        string="API Secret / Access Token",
        compute="_compute_secret_fields",
        inverse="_inverse_secret_fields",
        help="Stored encrypted; never displayed again once saved.",
    )
    api_secret_sealed = fields.Char(copy=False, groups="base.group_system")
    api_secret_is_set = fields.Boolean(compute="_compute_secret_is_set")
    technical_user_id = fields.Many2one(
        "res.users",
        string="Technical User",
        readonly=True,
        copy=False,
        help="The backend's own machine identity: its jobs and handlers run as "
        "this inactive user (no login), in the Integration Connector group, "
        "limited to the backend's company.",
    )
    exception_ids = fields.One2many("retail.sync.exception", "backend_id")
    open_exception_count = fields.Integer(compute="_compute_open_exception_count")

    _sql_constraints = [
        ("code_uniq", "unique(code)", "Another backend already uses this code."),
    ]

    @api.constrains("code")
    def _check_code(self):
        for backend in self:
            if not CODE_PATTERN.match(backend.code or ""):
                raise ValidationError(
                    _(
                        "The code %(code)s may only hold lowercase letters, digits "
                        "and underscores (at most 40).",
                        code=backend.code,
                    )
                )

    def _compute_open_exception_count(self):
        groups = self.env["retail.sync.exception"]._read_group(
            [("backend_id", "in", self.ids), ("state", "in", ("new", "in_progress"))],
            ["backend_id"],
            ["__count"],
        )
        counts = {backend.id: count for backend, count in groups}
        for backend in self:
            backend.open_exception_count = counts.get(backend.id, 0)

    @api.model_create_multi
    def create(self, vals_list):
        backends = super().create(vals_list)
        for backend in backends:
            backend.job_channel_id = backend._create_job_channel()
        backends.filtered(lambda b: b.state == "active")._ensure_technical_user()
        return backends

    def write(self, vals):
        res = super().write(vals)
        if vals.get("state") == "active":
            self._ensure_technical_user()
        if "code" in vals:
            # sudo: queue.job.channel is queue_job's, writable by Settings only: the
            # backend's manager renames its own channel
            self.job_channel_id.sudo().write({"name": vals["code"]})
        if "company_id" in vals:
            for backend in self.filtered("technical_user_id"):
                # sudo: users are Settings' to write; the backend's manager
                # moves its machine identity with it.
                backend.technical_user_id.sudo().write(
                    {
                        "company_id": backend.company_id.id,
                        "company_ids": [(6, 0, backend.company_id.ids)],
                    }
                )
        return res

    def _ensure_technical_user(self):
        """Give each backend without one its technical user: when it is first
        activated (it has no work before), or first asked for."""
        group = self.env.ref("retail_integration.group_retail_connector")
        for backend in self.filtered(lambda b: not b.technical_user_id):
            # sudo: creating a user takes Settings rights; an Integration
            # Manager creating a backend gets its machine identity with it.
            user = (
                self.env["res.users"]
                .sudo()
                .with_context(no_reset_password=True, mail_create_nosubscribe=True)
                .create(
                    {
                        "name": _("%(backend)s (connector)", backend=backend.name),
                        "login": f"retail_connector_{backend.id}",
                        # The author address of the chatter notes it writes.
                        "email": backend.company_id.email
                        or f"retail_connector_{backend.id}@localhost",
                        "company_id": backend.company_id.id,
                        "company_ids": [(6, 0, backend.company_id.ids)],
                        "groups_id": [(6, 0, group.ids)],
                    }
                )
            )
            user.active = False  # no login (Odoo refuses it at create)
            # sudo: whoever first needs the user (an Integration User retrying a
            # message) may not write the backend
            backend.sudo().technical_user_id = user

    def unlink(self):
        channels = self.job_channel_id
        res = super().unlink()
        # sudo: queue.job.channel is queue_job's: the backend's manager removes its own
        # channel
        channels.sudo().filtered(lambda c: not c.job_function_ids).unlink()
        return res

    def _create_job_channel(self):
        self.ensure_one()
        parent = self.env.ref("retail_integration.channel_retail")
        return (
            self.env["queue.job.channel"]
            # sudo: queue.job.channel is queue_job's: the backend's manager creates its
            # own channel
            .sudo()
            .create({"name": self.code, "parent_id": parent.id})
        )

    def _with_delay(self, records, **options):
        """``records.with_delay`` on this backend's own job channel, the job
        run as the backend's technical user in the backend's company only:
        whoever queues it, it has the connector's rights and no more."""
        self.ensure_one()
        options.setdefault("channel", self.job_channel)
        return self._as_technical_user(records).with_delay(**options)

    def _as_technical_user(self, records):
        """``records`` as this backend's jobs see them: as its technical user,
        in its company only."""
        self.ensure_one()
        self._ensure_technical_user()
        return records.with_user(self.technical_user_id).with_context(
            allowed_company_ids=self.company_id.ids
        )

    def action_activate(self):
        self.write({"state": "active"})
        return True

    def action_pause(self):
        self.write({"state": "paused"})
        return True

    def action_draft(self):
        self.write({"state": "draft"})
        return True

    def action_clear_credentials(self):
        for name in self._secret_fields:
            self._clear_secret(name)
        return True

    def action_open_exceptions(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "retail_integration.retail_sync_exception_action"
        )
        action["domain"] = [("backend_id", "=", self.id)]
        action["context"] = {"search_default_open": 1}
        return action

    @api.model
    def action_rotate_secret_key(self):
        count = self._rotate_secret_key()
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success",
                "message": _(
                    "%(count)s secret(s) re-encrypted with the current key.",
                    count=count,
                ),
            },
        }
