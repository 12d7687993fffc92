import { registry } from "@web/core/registry";

// An accountant opens a payout that does not match, sees the line whose
// order the channel did not know, picks the order and checks it again.
registry.category("web_tour.tours").add("retail_integration_storefront_payout_tour", {
    url: "/odoo/action-retail_integration_storefront.retail_storefront_payout_action",
    steps: () => [
        {
            content: "Open the payout with a difference",
            trigger: ".o_data_row td:contains(po_tour)",
            run: "click",
        },
        {
            content: "The line that does not match says why",
            trigger: ".o_field_widget[name=line_ids] .o_data_row:contains(No order 9999 on this channel)",
        },
        {
            content: "Pick the order of that line",
            trigger: ".o_field_widget[name=line_ids] .o_data_row:contains(txn_9) td[name=sale_id]",
            run: "click",
        },
        {
            trigger: ".o_field_widget[name=line_ids] .o_selected_row .o_field_widget[name=sale_id] input",
            run: "edit TOUR-728",
        },
        {
            trigger: ".o-autocomplete--dropdown-item:contains(TOUR-728)",
            run: "click",
        },
        {
            content: "Save",
            trigger: ".o_form_button_save",
            run: "click",
        },
        {
            content: "Check it again",
            trigger: ".o_form_saved button[name=action_recheck]",
            run: "click",
        },
        {
            content: "The payout is posted",
            trigger: ".o_statusbar_status button.o_arrow_button_current:contains(Posted)",
        },
    ],
});
