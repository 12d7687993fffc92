from typing import NamedTuple

from odoo import _, api, fields, models, tools
from odoo.exceptions import ValidationError

from ..lib import routing, versions
from ..lib.events import PAYLOAD_VERSION


class TypeSpec(NamedTuple):
    """What capture and dispatch need of an event type (``_specs``)."""

    routing: routing.Routing
    coalesce: bool
    reports_state: bool
    default_version: int
    versions: dict  # {number: lib.versions.Version}
    headers: dict  # {number: deprecation headers of its deliveries}


class RetailOutboxEventType(models.Model):
    """A canonical event type a subscription can ask for (data records of
    the modules that report it; the payload builders are registered in
    Python, ``lib/payloads.py``)."""

    _name = "retail.outbox.event.type"
    _inherit = ["retail.outbox.routing.source"]
    _description = "Outbox Event Type"
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    code = fields.Char(
        required=True, help="The type receivers see, e.g. order.confirmed."
    )
    sequence = fields.Integer(default=10)
    description = fields.Text(translate=True)
    routing = fields.Selection(
        selection="_routing_selection",
        required=True,
        default=routing.COMPANY.key,
        help="Which subscriptions of the record's company get its events.",
    )
    reports_state = fields.Boolean(
        help="The events report a state (a level, a price), not a step: one "
        "equal to the last of its record is not recorded.",
    )
    coalesce = fields.Boolean(
        help="Only the latest state matters: a newer event replaces the one a "
        "pending delivery carries instead of queueing both.",
    )
    version_ids = fields.One2many(
        "retail.outbox.event.version",
        "type_id",
        string="Versions",
        help="The versions of the data this type builds; none listed: version 1.",
    )

    _sql_constraints = [("code_uniq", "unique(code)", "Event type codes are unique.")]

    @api.model
    def _routing_selection(self):
        return routing.selection()

    @api.constrains("coalesce", "reports_state")
    def _check_coalesce(self):
        for event_type in self:
            if event_type.coalesce and not event_type.reports_state:
                raise ValidationError(
                    _(
                        "%(type)s: only events that report a state coalesce.",
                        type=event_type.code,
                    )
                )

    @api.model
    def _selection(self):
        """The types, for the selection fields that name one."""
        # sudo: the types name a selection every user sees
        return [(t.code, t.name) for t in self.sudo().search([])]

    @api.model
    @tools.ormcache()
    def _specs(self):
        """{code: TypeSpec} of every type."""
        specs = {}
        # sudo: the types' settings, for whoever's change writes an event
        for event_type in self.sudo().search([]):
            listed = {
                v.version: versions.Version(v.stable, v.deprecated_on, v.sunset_on)
                for v in event_type.version_ids
            } or {PAYLOAD_VERSION: versions.Version()}
            specs[event_type.code] = TypeSpec(
                routing=routing.ROUTINGS[event_type.routing],
                coalesce=event_type.coalesce,
                reports_state=event_type.reports_state,
                default_version=versions.default_version(listed),
                versions=listed,
                headers={n: versions.headers(v) for n, v in listed.items()},
            )
        return specs
