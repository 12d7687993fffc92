import { registry } from "@web/core/registry";
import { openRetailApp } from "@retail_integration/tours/steps";

/** Retail Integration ▸ Outbox ▸ ``item`` (a menu xmlid of this module). */
function outboxMenu(item) {
    return [
        {
            content: "Open the Outbox menu",
            trigger: '.o_menu_sections [data-menu-xmlid="retail_integration_outbox.menu_retail_outbox"]',
            run: "click",
        },
        {
            content: `Go to ${item}`,
            trigger: `.dropdown-item[data-menu-xmlid="retail_integration_outbox.${item}"]`,
            run: "click",
        },
    ];
}

// An operator finds a dead delivery in the outbox and replays it.
registry.category("web_tour.tours").add("retail_integration_outbox_replay_tour", {
    url: "/odoo",
    steps: () => [
        ...openRetailApp(),
        ...outboxMenu("menu_retail_outbox_deliveries"),
        {
            content: "Select the dead delivery",
            trigger: ".o_data_row:has(td:contains(tour.case,1)) .o_list_record_selector input",
            run: "click",
        },
        {
            content: "Replay it",
            trigger: ".o_control_panel button[name=action_replay]",
            run: "click",
        },
        {
            content: "It is pending again",
            trigger: ".o_data_row:has(td:contains(tour.case,1)) .badge:contains(Pending)",
        },
    ],
});

// A manager rotates a subscription's secret: the new one is shown once, and
// the old one keeps signing until the date the form shows.
registry.category("web_tour.tours").add("retail_integration_outbox_rotate_tour", {
    url: "/odoo",
    steps: () => [
        ...openRetailApp(),
        ...outboxMenu("menu_retail_outbox_subscriptions"),
        {
            content: "Open the subscription",
            trigger: ".o_data_row td:contains(Rotating receiver)",
            run: "click",
        },
        {
            content: "Rotate its secret",
            trigger: ".o_form_view button[name=action_rotate_secret]",
            run: "click",
        },
        {
            content: "Confirm",
            trigger: ".modal-footer button.btn-primary",
            run: "click",
        },
        {
            content: "The new secret is shown",
            trigger: ".o_notification:contains(copy it now):contains(whsec_)",
        },
        {
            content: "Open the Signing tab",
            trigger: ".o_notebook a[name=signing]",
            run: "click",
        },
        {
            content: "The old secret signs until a date",
            trigger: ".o_field_widget[name=previous_secret_until]:not(:empty)",
        },
    ],
});
