"""The inventory's sources of this suite: connector backends, webhook
endpoints and outbox subscriptions (lib/inventory.py). An endpoint or a
subscription left empty shows its backend's owner, purpose, classification
and review date."""

from odoo.tools import sql
from odoo.tools.translate import LazyTranslate

from ..lib import inventory

_lt = LazyTranslate(__name__)


@inventory.register_source("backend")
class Backends(inventory.Source):
    label = _lt("Connector backend")
    number = 1
    model = "retail.backend"

    def select(self, env):
        pulled = (
            ", b.storefront_reconciled_at"
            if sql.column_exists(env.cr, "retail_backend", "storefront_reconciled_at")
            else ""
        )
        return f"""
            SELECT b.id AS res_id, b.name, b.company_id, b.id AS backend_id,
                   b.user_id AS owner_id, b.purpose, b.data_classification,
                   b.channel_type || ': ' || b.provider AS scopes,
                   GREATEST(
                       (SELECT max(e.last_message_at) FROM retail_webhook_endpoint e
                         WHERE e.backend_id = b.id),
                       (SELECT max(s.last_success) FROM retail_event_subscription s
                         WHERE s.backend_id = b.id){pulled}) AS last_used_at,
                   b.review_date, {inventory.backend_sla(env, "b")} AS sla,
                   (b.active AND b.state = 'active') AS live, b.create_date
              FROM retail_backend b
        """


@inventory.register_source("endpoint")
class Endpoints(inventory.Source):
    label = _lt("Webhook endpoint")
    number = 2
    model = "retail.webhook.endpoint"

    def select(self, env):
        return f"""
            SELECT e.id AS res_id, e.name, e.company_id, e.backend_id,
                   COALESCE(e.owner_id, b.user_id) AS owner_id,
                   COALESCE(e.purpose, b.purpose) AS purpose,
                   COALESCE(e.data_classification, b.data_classification)
                       AS data_classification,
                   'in: ' || COALESCE(NULLIF(e.topics, ''), '*') AS scopes,
                   e.last_message_at AS last_used_at,
                   COALESCE(e.review_date, b.review_date) AS review_date,
                   {inventory.backend_sla(env, "b")} AS sla,
                   (e.active AND e.neutralized IS NOT TRUE) AS live, e.create_date
              FROM retail_webhook_endpoint e
              JOIN retail_backend b ON b.id = e.backend_id
        """


@inventory.register_source("subscription")
class Subscriptions(inventory.Source):
    label = _lt("Outbox subscription")
    number = 3
    model = "retail.event.subscription"

    def select(self, env):
        types = env["retail.event.subscription"]._fields["event_type_ids"]
        return f"""
            SELECT s.id AS res_id, s.name, s.company_id, s.backend_id,
                   COALESCE(s.owner_id, b.user_id) AS owner_id,
                   COALESCE(s.purpose, b.purpose) AS purpose,
                   COALESCE(s.data_classification, b.data_classification)
                       AS data_classification,
                   'out: ' || COALESCE((
                       SELECT string_agg(t.code, ', ' ORDER BY t.code)
                         FROM {types.relation} r
                         JOIN retail_outbox_event_type t ON t.id = r.{types.column2}
                        WHERE r.{types.column1} = s.id), '') AS scopes,
                   s.last_success AS last_used_at,
                   COALESCE(s.review_date, b.review_date) AS review_date,
                   {inventory.backend_sla(env, "b")} AS sla,
                   (s.active AND s.state != 'stopped') AS live, s.create_date
              FROM retail_event_subscription s
              JOIN retail_backend b ON b.id = s.backend_id
        """
