import ipaddress
from collections import namedtuple

from odoo import _, api, fields, models, tools
from odoo.exceptions import ValidationError
from odoo.tools import SQL

from odoo.addons.retail_integration_webhook.lib import buckets

from ..lib import keys
from ..lib.problems import Problem

# The scopes that reach the backend's orders.
ORDER_SCOPES = ("orders:write", "orders:read", "returns:write")

Config = namedtuple(
    "Config",
    "company_id user_id rate_limit rate_burst backend_id backend_active "
    "safety_buffer warehouses",
)
Access = namedtuple(
    "Access",
    "key_prefix key_hash key_active expires_at client_id client_active scopes networks",
)


class RetailApiClient(models.Model):
    """One consuming system of the API: who owns it, why it calls, what it
    may do, and as whom it runs."""

    _name = "retail.api.client"
    _description = "Retail API Client"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "name, id"
    _check_company_auto = True

    name = fields.Char(required=True, tracking=True)
    active = fields.Boolean(default=True, tracking=True)
    company_id = fields.Many2one(
        "res.company",
        required=True,
        default=lambda self: self.env.company,
        index=True,
        tracking=True,
    )
    owner_id = fields.Many2one(
        "res.users",
        string="Owner",
        required=True,
        default=lambda self: self.env.user,
        tracking=True,
        help="The person answerable for this integration: reviews, keys, incidents.",
    )
    purpose = fields.Text(required=True, tracking=True)
    data_classification = fields.Selection(
        [
            ("public", "Public"),
            ("internal", "Internal"),
            ("confidential", "Confidential"),
            ("personal", "Personal data"),
        ],
        required=True,
        default="internal",
        tracking=True,
        help="The most sensitive kind of data the client reads or sends.",
    )
    review_date = fields.Date(tracking=True, help="When the owner reviews it next.")
    last_used_at = fields.Datetime("Last Used", readonly=True, copy=False)
    backend_id = fields.Many2one(
        "retail.backend",
        string="Storefront Backend",
        required=True,
        check_company=True,
        domain="[('channel_type', '=', 'storefront')]",
        help="The channel backend the client's orders are imported through: its "
        "pricelist, default warehouse, safety buffer and import settings apply.",
    )
    scope_ids = fields.Many2many("retail.api.scope", string="Scopes", tracking=True)
    warehouse_ids = fields.Many2many(
        "stock.warehouse",
        string="Allowed Warehouses",
        check_company=True,
        help="Warehouses and stores the client may read and reserve at. Empty: "
        "every warehouse of the company.",
    )
    rate_limit = fields.Float("Rate Limit (requests/s)", default=20.0)
    rate_burst = fields.Integer("Burst", default=40)
    allowed_networks = fields.Text(
        "IP Allow-List",
        help="One address or network (CIDR) per line. Empty: any address.",
    )
    technical_user_id = fields.Many2one(
        "res.users",
        readonly=True,
        copy=False,
        help="The client's calls run as this inactive user, with the rights of "
        "its scopes only, in the client's company.",
    )
    key_ids = fields.One2many("retail.api.key", "client_id", string="Keys")
    call_ids = fields.One2many("retail.api.call", "client_id", string="Calls")
    call_count = fields.Integer(compute="_compute_call_count")

    _sql_constraints = [
        (
            "rate_positive",
            "CHECK(rate_limit > 0 AND rate_burst >= 1)",
            "The rate limit must be positive.",
        ),
    ]

    def init(self):
        # Token buckets, written by every call of every worker in autocommit:
        # unlogged, and without a foreign key, as the webhook endpoints'
        # runtime table (a client's row may not be committed yet).
        self.env.cr.execute(
            SQL(
                """
            CREATE UNLOGGED TABLE IF NOT EXISTS retail_api_client_runtime (
                client_id integer PRIMARY KEY,
                %s
            )
            """,
                buckets.COLUMNS,
            )
        )
        buckets.upgrade(self.env.cr, "retail_api_client_runtime")

    def _compute_call_count(self):
        groups = self.env["retail.api.call"]._read_group(
            [("client_id", "in", self.ids)], ["client_id"], ["__count"]
        )
        counts = {client.id: count for client, count in groups}
        for client in self:
            client.call_count = counts.get(client.id, 0)

    @api.constrains("backend_id", "scope_ids", "active")
    def _check_one_order_client_per_backend(self):
        """A backend's orders are one channel's (their ids are the channel's):
        one client at most reads, submits or returns them."""
        for client in self.filtered("active"):
            if not set(client.scope_ids.mapped("code")) & set(ORDER_SCOPES):
                continue
            # sudo: whichever companies the current user works in
            other = self.sudo().search(
                [
                    ("id", "!=", client.id),
                    ("backend_id", "=", client.backend_id.id),
                    ("scope_ids.code", "in", ORDER_SCOPES),
                ],
                limit=1,
            )
            if other:
                raise ValidationError(
                    _(
                        "%(backend)s already serves the orders of the API client "
                        "%(other)s. Give each client that submits, reads or "
                        "returns orders a backend of its own: the orders of a "
                        "backend are one channel's.",
                        backend=client.backend_id.display_name,
                        other=other.display_name,
                    )
                )

    @api.constrains("allowed_networks")
    def _check_allowed_networks(self):
        for client in self:
            try:
                client._networks()
            except ValueError as err:
                raise ValidationError(
                    _("The IP allow-list has a bad entry: %(error)s", error=err)
                ) from err

    def _networks(self):
        self.ensure_one()
        lines = (self.allowed_networks or "").split()
        return [ipaddress.ip_network(line.strip(), strict=False) for line in lines]

    # Technical user ------------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        clients = super().create(vals_list)
        clients._sync_technical_user()
        return clients

    def write(self, vals):
        res = super().write(vals)
        if {"scope_ids", "company_id", "name"} & set(vals):
            self._sync_technical_user()
        self.env.registry.clear_cache()  # _access_of, in every worker
        return res

    def unlink(self):
        res = super().unlink()
        self.env.registry.clear_cache()
        return res

    def _sync_technical_user(self):
        """Create or update each client's technical user: only the groups its
        scopes grant (base.group_user at least, to be an internal user), and
        only the client's company. Never an administrator."""
        base = self.env.ref("base.group_user")
        for client in self:
            groups = base | client.scope_ids.group_ids
            vals = {
                "name": _("%(client)s (API)", client=client.name),
                "company_id": client.company_id.id,
                "company_ids": [(6, 0, client.company_id.ids)],
                "groups_id": [(6, 0, groups.ids)],
            }
            # sudo: users are Settings' to write; the client's manager gets its
            # machine identity with it.
            users = self.env["res.users"].sudo().with_context(active_test=False)
            if client.technical_user_id:
                client.technical_user_id.sudo().write(vals)
                continue
            user = users.with_context(
                no_reset_password=True, mail_create_nosubscribe=True
            ).create(
                {
                    **vals,
                    "login": f"retail_api_client_{client.id}",
                    "email": client.company_id.email
                    or f"retail_api_client_{client.id}@localhost",
                }
            )
            user.active = False  # no login (Odoo refuses it at create)
            client.sudo().technical_user_id = user

    def _as_technical_user(self, records, **context):
        """``records`` as the client's technical user in its company, with
        ``context`` added."""
        config = self._config()
        return records.with_user(config.user_id).with_context(
            allowed_company_ids=[config.company_id], **context
        )

    # Keys ----------------------------------------------------------------------

    def action_generate_key(self):
        """A new key, shown this once in a notification that stays until
        closed; only its hash is stored."""
        self.ensure_one()
        key = self.env["retail.api.key"]._generate(self)
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": _("New API key %(prefix)s", prefix=key[1].prefix),
                "message": _("Copy it now, it is not shown again: %(key)s", key=key[0]),
                "sticky": True,
                "type": "warning",
                "next": {"type": "ir.actions.act_window_close"},
            },
        }

    def action_open_calls(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "retail_integration_api.retail_api_call_action"
        )
        action["domain"] = [("client_id", "=", self.id)]
        return action

    # Per call ------------------------------------------------------------------

    @api.model
    @tools.ormcache("prefix")
    def _access_of(self, prefix):
        """What a call needs to know of the key ``prefix`` and its client, kept
        per worker: the key's hash, state and expiry, the client, its scopes
        and allow-list. Any change of a client, key or scope clears it in every
        worker before their next call, so a revocation holds at once."""
        # sudo: the API's own bookkeeping, read before any user is known
        key = (
            self.env["retail.api.key"].sudo().search([("prefix", "=", prefix)], limit=1)
        )
        if not key:
            return None
        client = key.client_id
        return Access(
            key_prefix=key.prefix,
            key_hash=key.key_hash,
            key_active=key.state == "active",
            expires_at=key.expires_at,
            client_id=client.id,
            client_active=client.active,
            scopes=frozenset(client.scope_ids.mapped("code")),
            networks=tuple(client._networks()),
        )

    @api.model
    def _authenticate(self, headers, remote_addr, audit):
        """(client, Access) of the key a request presents, or the Problem.
        ``audit`` (the call's audit values) learns the key's prefix and client
        as soon as they are known, so that a refused call names them: a
        revoked key still in use, or a key used from outside its allow-list,
        is how a leak shows."""
        presented = keys.from_headers(headers)
        prefix = keys.prefix_of(presented)
        if not prefix:
            raise Problem(
                "unauthenticated",
                _("Send the API key as 'Authorization: Bearer <key>'."),
                headers={"WWW-Authenticate": 'Bearer realm="retail-api"'},
            )
        audit["key_prefix"] = prefix
        access = self._access_of(prefix)
        if access:
            audit["client_id"] = access.client_id
            audit["company_id"] = self.browse(access.client_id)._config().company_id
        if (
            not access
            or not keys.matches(presented, access.key_hash)
            or not access.key_active
            or (access.expires_at and access.expires_at <= fields.Datetime.now())
            or not access.client_active
        ):
            raise Problem(
                "unauthenticated",
                _("The API key is unknown, expired or revoked."),
                headers={"WWW-Authenticate": 'Bearer realm="retail-api"'},
            )
        if access.networks:
            try:
                address = ipaddress.ip_address(remote_addr or "")
            except ValueError:
                address = None
            if not address or not any(address in net for net in access.networks):
                raise Problem(
                    "forbidden_ip",
                    _("%(addr)s is not on the client's allow-list.", addr=remote_addr),
                )
        return self.browse(access.client_id), access

    @tools.ormcache("self.id")
    def _config(self):
        """The client's settings a call reads, kept per worker (cleared with
        ``_access_of``, and when a warehouse or a backend changes):
        ``warehouses`` is ((id, code), …) of the allowed ones."""
        self.ensure_one()
        client = self.sudo()
        return Config(
            company_id=client.company_id.id,
            user_id=client.technical_user_id.id,
            rate_limit=client.rate_limit,
            rate_burst=client.rate_burst,
            backend_id=client.backend_id.id,
            backend_active=client.backend_id.state == "active",
            safety_buffer=client.backend_id.storefront_safety_buffer,
            warehouses=tuple((w.id, w.code) for w in client._allowed_warehouses()),
        )

    def _take_rate_token(self):
        """The webhook endpoints' token bucket, on the client's own row:
        shared by all workers; 0 if allowed, else seconds to wait."""
        self.ensure_one()
        config = self._config()
        return buckets.take(
            self.env.cr.dbname,
            "retail_api_client_runtime",
            "client_id",
            self.id,
            config.rate_limit,
            config.rate_burst,
        )

    def _allowed_warehouses(self):
        self.ensure_one()
        return self.warehouse_ids or self.env["stock.warehouse"].search(
            [("company_id", "=", self.company_id.id)]
        )

    def _warehouse(self, code):
        """The client's warehouse of ``code``: one of its company outside the
        client's list is refused; another company's is not found, as an
        unknown one (a client does not learn what other companies have)."""
        self.ensure_one()
        warehouse = (
            self.env["stock.warehouse"]
            .sudo()
            .search(
                [("code", "=", code), ("company_id", "=", self.company_id.id)],
                order="id",
                limit=1,
            )
        )
        if not warehouse:
            raise Problem("not_found", _("No warehouse %(code)s.", code=code))
        if warehouse not in self._allowed_warehouses():
            raise Problem(
                "warehouse_forbidden",
                _("Warehouse %(code)s is not one this client may use.", code=code),
            )
        return warehouse
