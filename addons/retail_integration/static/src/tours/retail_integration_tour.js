import { registry } from "@web/core/registry";
import { openRetailApp } from "@retail_integration/tours/steps";

// An administrator connects a shop, saves its secret, then a back-office user
// takes an exception from the inbox and resolves it.
registry.category("web_tour.tours").add("retail_integration_tour", {
    url: "/odoo",
    steps: () => [
        ...openRetailApp(),
        {
            content: "Go to the backends",
            trigger: '.o_menu_sections [data-menu-xmlid="retail_integration.menu_retail_backends"]',
            run: "click",
        },
        {
            content: "Create a backend",
            trigger: ".o_list_button_add",
            run: "click",
        },
        {
            trigger: ".o_field_widget[name=name] input",
            run: "edit Tour Shop",
        },
        {
            trigger: ".o_field_widget[name=code] input",
            run: "edit tour_shop",
        },
        {
            content: "Open the credentials",
            trigger: "a.nav-link:contains(Credentials)",
            run: "click",
        },
        {
            trigger: ".o_field_widget[name=api_secret] input",
            run: "edit tour-secret-123",
        },
        {
            content: "Save",
            trigger: ".o_form_button_save",
            run: "click",
        },
        {
            content: "The secret is saved, and not shown",
            trigger: ".o_field_widget[name=api_secret_is_set] input:checked",
        },
        {
            content: "Go to the exceptions inbox",
            trigger: '.o_menu_sections [data-menu-xmlid="retail_integration.menu_retail_exceptions"]',
            run: "click",
        },
        {
            content: "Open the exception",
            trigger: ".o_data_row td:contains(Unknown SKU TOUR-1)",
            run: "click",
        },
        {
            trigger: ".o_field_widget[name=cause]:contains(TOUR-1)",
        },
        {
            content: "Take it",
            trigger: "button[name=action_take]",
            run: "click",
        },
        {
            trigger: ".o_statusbar_status button.o_arrow_button_current:contains(In Progress)",
        },
        {
            content: "Resolve it",
            trigger: "button[name=action_resolve]",
            run: "click",
        },
        {
            trigger: ".o_statusbar_status button.o_arrow_button_current:contains(Resolved)",
        },
    ],
});
