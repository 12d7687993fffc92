import { registry } from "@web/core/registry";

// An operator finds a dead delivery in the outbox and replays it.
registry.category("web_tour.tours").add("retail_integration_outbox_replay_tour", {
    url: "/odoo",
    steps: () => [
        {
            content: "Open the apps menu",
            trigger: ".o_navbar_apps_menu button:enabled",
            run: "click",
        },
        {
            content: "Open the Retail Integration app",
            trigger: '.o_app[data-menu-xmlid="retail_integration.menu_retail_root"]',
            run: "click",
        },
        {
            content: "Open the Outbox menu",
            trigger: '.o_menu_sections [data-menu-xmlid="retail_integration_outbox.menu_retail_outbox"]',
            run: "click",
        },
        {
            content: "Go to the deliveries",
            trigger: '.dropdown-item[data-menu-xmlid="retail_integration_outbox.menu_retail_outbox_deliveries"]',
            run: "click",
        },
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
