from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from ..lib import payloads


class RetailOutboxEventVersion(models.Model):
    """A version of an event type's data (see readme/USAGE.md, *Versions*)."""

    _name = "retail.outbox.event.version"
    _inherit = ["retail.outbox.routing.source"]
    _description = "Outbox Event Type Version"
    _order = "type_id, version"

    type_id = fields.Many2one(
        "retail.outbox.event.type", required=True, ondelete="cascade", index=True
    )
    version = fields.Integer(required=True, default=1)
    stable = fields.Boolean(
        default=True,
        help="New subscriptions take the newest stable version; a preview is "
        "sent only to subscriptions that ask for its number.",
    )
    deprecated_on = fields.Date(
        "Deprecated On",
        help="Deliveries in this version carry a Deprecation header with this "
        "date; move the receivers to a newer version.",
    )
    sunset_on = fields.Date(
        "Sunset On",
        help="Deliveries in this version carry a Sunset header with this date: "
        "the version may no longer be sent after it.",
    )

    _sql_constraints = [
        ("version_uniq", "unique(type_id, version)", "A version is listed once."),
        ("version_positive", "CHECK(version >= 1)", "Versions start at 1."),
    ]

    @api.constrains("type_id", "version")
    def _check_builder(self):
        for version in self:
            code = version.type_id.code
            if not payloads.registered(code, version.version):
                raise ValidationError(
                    _(
                        "No payload builder is registered for %(type)s version "
                        "%(version)s.",
                        type=code,
                        version=version.version,
                    )
                )
