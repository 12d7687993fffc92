import { registry } from "@web/core/registry";

// A data-protection officer looks at the integrations by data class, finds
// those whose review is overdue and opens one to see its owner and purpose.
// (Its menu, Retail Integration ▸ Configuration ▸ Integration Inventory, sits
// in the menu bar's overflow at the tour's width: the tour opens the action.)
registry.category("web_tour.tours").add("retail_integration_governance_inventory_tour", {
    url: "/odoo/action-retail_integration_governance.retail_integration_inventory_action",
    steps: () => [
        {
            content: "Switch to the pivot",
            trigger: ".o_switch_view.o_pivot",
            run: "click",
        },
        {
            content: "Integrations are counted by kind and data class",
            trigger: ".o_pivot th:contains(Personal data)",
        },
        {
            content: "Back to the list",
            trigger: ".o_switch_view.o_list",
            run: "click",
        },
        {
            content: "Open the filters",
            trigger: ".o_searchview_dropdown_toggler",
            run: "click",
        },
        {
            content: "Review Overdue",
            trigger: '.o_filter_menu .dropdown-item:contains("Review Overdue")',
            run: "click",
        },
        {
            content: "The tour's endpoint is listed in red, its review overdue",
            trigger: ".o_data_row.text-danger:has(td:contains(Tour hooks)):has(td:contains(in: orders/create))",
        },
        {
            content: "Open its record",
            trigger: ".o_data_row:has(td:contains(Tour hooks)) button[name=action_open_record]",
            run: "click",
        },
        {
            content: "Its governance page",
            trigger: '.o_notebook a[name="governance"]',
            run: "click",
        },
        {
            content: "Its purpose is there",
            trigger: '.o_field_widget[name="purpose"] textarea:value(Tour orders in)',
        },
    ],
});
