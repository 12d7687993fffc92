from odoo import _, api, fields, models
from odoo.exceptions import UserError

from ..lib import keys


class RetailApiKey(models.Model):
    """A key of an API client: its hash only, and the prefix that names it.

    A client holds several, each with its expiry, so that a new key is rolled
    out before the old one is revoked."""

    _name = "retail.api.key"
    _description = "Retail API Key"
    _order = "create_date desc, id desc"

    client_id = fields.Many2one(
        "retail.api.client", required=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one(related="client_id.company_id", store=True)
    name = fields.Char(default=lambda self: _("Key"))
    prefix = fields.Char(required=True, readonly=True, index=True, copy=False)
    key_hash = fields.Char(
        required=True, readonly=True, copy=False, groups="base.group_system"
    )
    state = fields.Selection(
        [("active", "Active"), ("revoked", "Revoked")],
        required=True,
        default="active",
        readonly=True,
    )
    expires_at = fields.Datetime(
        "Expires", help="Empty: until revoked. Rotate before it expires."
    )
    revoked_at = fields.Datetime(readonly=True)
    last_used_at = fields.Datetime("Last Used", readonly=True)

    _sql_constraints = [("prefix_uniq", "unique(prefix)", "Key prefixes are unique.")]

    @api.model
    def _generate(self, client, expires_at=None):
        """(the key, its record): the key itself exists only in the answer."""
        key, prefix, digest = keys.generate()
        # sudo: the hash field is Settings' only, so that nobody reads it back
        record = self.sudo().create(
            {
                "client_id": client.id,
                "prefix": prefix,
                "key_hash": digest,
                "expires_at": expires_at,
            }
        )
        return key, self.browse(record.id)

    def _usable(self):
        self.ensure_one()
        return self.state == "active" and (
            not self.expires_at or self.expires_at > fields.Datetime.now()
        )

    def action_revoke(self):
        """Revoke at once: the next call with the key is refused."""
        for key in self.filtered(lambda k: k.state == "active"):
            key.write({"state": "revoked", "revoked_at": fields.Datetime.now()})
            key.client_id.message_post(
                body=_("API key %(prefix)s revoked.", prefix=key.prefix)
            )
        return True

    @api.model_create_multi
    def create(self, vals_list):
        keys_ = super().create(vals_list)
        self.env.registry.clear_cache()  # the clients' _access_of, in every worker
        return keys_

    def write(self, vals):
        res = super().write(vals)
        self.env.registry.clear_cache()
        return res

    def unlink(self):
        if any(key.state == "active" for key in self):
            raise UserError(_("Revoke a key before deleting it."))
        res = super().unlink()
        self.env.registry.clear_cache()
        return res

    @api.model
    def _install_demo_key(self, client_id):
        """Demo data only: a fixed, published key, so that the README's curl
        examples run against the demo database. Never in production."""
        client = self.env["retail.api.client"].browse(client_id)
        if not self.search_count([("prefix", "=", keys.prefix_of(keys.DEMO_KEY))]):
            self.sudo().create(
                {
                    "client_id": client.id,
                    "name": "Demo key (published: demo data only)",
                    "prefix": keys.prefix_of(keys.DEMO_KEY),
                    "key_hash": keys.digest(keys.DEMO_KEY),
                }
            )
