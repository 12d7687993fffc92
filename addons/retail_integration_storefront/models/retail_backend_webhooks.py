from urllib.parse import urlsplit

from odoo import _, models
from odoo.exceptions import UserError

from odoo.addons.retail_integration.lib.api_errors import ApiError
from odoo.addons.retail_integration_webhook.models.retail_webhook_endpoint import ROUTE


class RetailBackend(models.Model):
    """Register Webhooks: the channel's order webhooks pointed at the
    backend's endpoint, and the webhooks that can only fail removed."""

    _inherit = "retail.backend"

    def action_storefront_register_webhooks(self):
        """Point the channel's order webhooks at the backend's endpoint, then
        delete the channel's webhooks that can only fail (see
        ``_storefront_dead_urls``) and the duplicates the adapter finds."""
        self.ensure_one()
        endpoint = self.env["retail.webhook.endpoint"].search(
            [("backend_id", "=", self.id)], limit=1
        )
        if not endpoint or not endpoint.url:
            raise UserError(
                _("Create the backend's webhook endpoint first: its URL is registered.")
            )
        adapter = self._storefront_connect()
        secret = None
        if adapter.sends_endpoint_secret:
            # sudo: the endpoint's secret goes to the channel when the channel signs
            # with it
            secret = endpoint.sudo()._get_secret("secret")
            if not secret:
                raise UserError(_("The endpoint has no signing secret yet."))
        try:
            done, hooks, duplicates = adapter.register_webhooks(
                endpoint.url, secret, f"Odoo {self.code}"
            )
        except ApiError as err:
            raise UserError(
                _("Registering the webhooks failed: %(error)s", error=err)
            ) from err
        dead = self._storefront_dead_urls({hook["url"] for hook in hooks})
        stale = [
            hook["id"]
            for hook in hooks
            if hook["url"] in dead or hook["id"] in duplicates
        ]
        # The webhooks are registered: a delete that fails is reported, and
        # the next run tries it again.
        not_removed = []
        for hook_id in stale:
            try:
                adapter.delete_webhook(hook_id)
            except ApiError as err:
                not_removed.append(str(err))
        message = self._storefront_webhooks_report(
            done, endpoint.url, len(stale), not_removed
        )
        self.message_post(body=message)
        return self._notify(message)

    def _storefront_webhooks_report(self, done, url, stale, not_removed):
        outcomes = list(done.values())
        message = _(
            "Webhooks %(topics)s to %(url)s: %(registered)s registered, "
            "%(present)s already present.",
            topics=", ".join(done),
            url=url,
            registered=outcomes.count("registered"),
            present=len(outcomes) - outcomes.count("registered"),
        )
        if "activated" in outcomes:
            message += " " + _(
                "%(count)s of them set active again.",
                count=outcomes.count("activated"),
            )
        if stale > len(not_removed):
            message += " " + _(
                "%(count)s old webhook(s) removed.",
                count=stale - len(not_removed),
            )
        if not_removed:
            message += " " + _(
                "%(count)s old webhook(s) could not be removed (%(error)s); "
                "Register Webhooks tries again.",
                count=len(not_removed),
                error=not_removed[0],
            )
        return message

    def _storefront_dead_urls(self, urls):
        """The ``urls`` that point at a URL an endpoint of this database had
        before *New URL* (a retired token, whatever the host or the query):
        they answer 404. Webhooks of other applications, of other databases
        and of current endpoints (archived ones included) are never among
        them."""
        endpoints = (
            self.env["retail.webhook.endpoint"]
            # sudo: the endpoint's tokens are base.group_system fields
            .sudo()
            .with_context(active_test=False)
            .search([])
        )
        retired = {
            token
            for tokens in endpoints.mapped("retired_tokens")
            for token in (tokens or "").split()
        } - set(endpoints.mapped("token"))
        dead = set()
        for url in urls:
            path = urlsplit(url or "").path
            if path.startswith(ROUTE) and path[len(ROUTE) :].strip("/") in retired:
                dead.add(url)
        return dead
