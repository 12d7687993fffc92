import { registry } from "@web/core/registry";

// A back-office user finds a failed webhook, reads why, and retries it.
registry.category("web_tour.tours").add("retail_integration_webhook_tour", {
    url: "/odoo/action-retail_integration_webhook.retail_inbound_message_action",
    steps: () => [
        {
            content: "Show the failed messages",
            trigger: ".o_searchview_input",
            run: "click",
        },
        {
            trigger: ".o_filter_menu .o-dropdown-item:contains(Failed)",
            run: "click",
        },
        {
            content: "Open the failed message",
            trigger: ".o_data_row td:contains(orders/create)",
            run: "click",
        },
        {
            content: "The cause is shown in plain words",
            trigger: ".alert-danger:contains(No product has the SKU TOUR-SKU)",
        },
        {
            content: "Retry it",
            trigger: "button[name=action_retry]",
            run: "click",
        },
        {
            trigger: ".o_statusbar_status button.o_arrow_button_current:contains(Queued)",
        },
    ],
});
