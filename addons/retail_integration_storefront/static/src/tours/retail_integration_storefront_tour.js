import { registry } from "@web/core/registry";

// A back-office user opens the inbox item of an unknown SKU, maps the SKU to a
// product and retries the orders that failed on it.
registry.category("web_tour.tours").add("retail_integration_storefront_tour", {
    url: "/odoo/action-retail_integration.retail_sync_exception_action",
    steps: () => [
        {
            content: "Open the failed order's exception",
            trigger: ".o_data_row td:contains(could not be processed)",
            run: "click",
        },
        {
            content: "The cause names the SKU",
            trigger: ".o_field_widget[name=cause]:contains(No product has the SKU TOUR-SKU)",
        },
        {
            content: "Map the SKU",
            trigger: "button[name=action_storefront_map_product]",
            run: "click",
        },
        {
            content: "Pick the product",
            trigger: ".modal .o_field_widget[name=product_id] input",
            run: "edit Test Cap",
        },
        {
            trigger: ".o-autocomplete--dropdown-item:contains(Test Cap)",
            run: "click",
        },
        {
            content: "Map and retry",
            trigger: ".modal button[name=action_map_and_retry]",
            run: "click",
        },
        {
            content: "The exception is being handled",
            trigger: ".o_statusbar_status button.o_arrow_button_current:contains(In Progress)",
        },
    ],
});
