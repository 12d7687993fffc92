import { registry } from "@web/core/registry";

// The store manager opens the store day that does not balance, sees the
// missing ticket and the totals side by side, re-checks it, then accepts the
// difference with a reason, which the chatter keeps.
registry.category("web_tour.tours").add("retail_integration_pos_store_day_tour", {
    url: "/odoo/action-retail_integration_pos.retail_pos_store_day_action",
    steps: () => [
        {
            content: "Open the store day with a difference",
            trigger: ".o_data_row:contains(Difference) td[name=store_id]:contains(Lyon)",
            run: "click",
        },
        {
            content: "The missing ticket numbers are listed",
            trigger: ".o_field_widget[name=missing_numbers]:contains(R1: 1002)",
        },
        {
            content: "The totals per payment method, side by side",
            trigger: ".o_field_widget[name=line_ids] .o_data_row:contains(Test Card):contains(76.50):contains(51.00)",
        },
        {
            content: "Re-check",
            trigger: "button[name=action_recheck]",
            run: "click",
        },
        {
            trigger: ".o-mail-Message:contains(Re-checked against the tickets received)",
        },
        {
            content: "Accept the difference",
            trigger: "button[name=action_accept_difference]",
            run: "click",
        },
        {
            content: "Give the reason",
            trigger: ".modal .o_field_widget[name=reason] textarea",
            run: "edit Ticket 1002 was voided on paper; approved by the store manager",
        },
        {
            trigger: ".modal button[name=action_accept]",
            run: "click",
        },
        {
            content: "The reason is in the chatter",
            trigger: ".o-mail-Message:contains(Difference accepted by):contains(voided on paper)",
        },
    ],
});
