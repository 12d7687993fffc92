"""API clients in the integration inventory of retail_integration_governance
(used only when that module is installed; nothing happens otherwise)."""

try:
    from odoo.addons.retail_integration_governance.lib import inventory
except ImportError:  # the governance module is not in the addons path
    inventory = None

if inventory:

    @inventory.register_source("api_client")
    class ApiClients(inventory.Source):
        label = "API client"
        number = 4  # fixed: the row id is res_id * 16 + 4
        model = "retail.api.client"

        def select(self, env):
            # The columns of lib/inventory.py COLUMNS, in that order.
            return """
                SELECT c.id AS res_id, c.name, c.company_id,
                       c.backend_id, c.owner_id, c.purpose,
                       c.data_classification,
                       (SELECT string_agg(s.code, ', ' ORDER BY s.code)
                          FROM retail_api_client_retail_api_scope_rel r
                          JOIN retail_api_scope s ON s.id = r.retail_api_scope_id
                         WHERE r.retail_api_client_id = c.id) AS scopes,
                       c.last_used_at, c.review_date, NULL::varchar AS sla,
                       c.active AS live, c.create_date
                  FROM retail_api_client c
            """
