import { registry } from "@web/core/registry";

const CARD = ".o_kanban_record:contains('Tour Shop · orders in')";

// An operations lead opens the dashboard on Monday morning, sees the
// breached flow, and opens the failed messages behind it.
registry.category("web_tour.tours").add("retail_integration_monitoring_dashboard_tour", {
    url: "/odoo/action-retail_integration_monitoring.retail_monitor_flow_action",
    steps: () => [
        {
            content: "The orders flow is breached, its numbers on the card",
            trigger: `${CARD}:contains(Breached):contains(failed 83.3 %)`,
        },
        {
            content: "Its last 24 hours",
            trigger: `${CARD} .o_retail_sparkline:contains(█)`,
        },
        {
            content: "Open the items waiting for a person",
            trigger: `${CARD} a.o_retail_dead`,
            run: "click",
        },
        {
            content: "The failed messages of that flow",
            trigger: ".o_list_view .o_data_row:contains(orders/create):contains(Failed)",
        },
    ],
});

// Someone asks where order #TOUR1 is: its whole path, step by step.
registry.category("web_tour.tours").add("retail_integration_monitoring_trace_tour", {
    url: "/odoo/action-retail_integration_monitoring.retail_monitor_trace_action",
    steps: () => [
        {
            content: "Enter the channel's order number",
            trigger: ".o_retail_trace_query input",
            run: "edit #TOUR1",
        },
        {
            trigger: "button[name=action_trace]",
            run: "click",
        },
        {
            content: "From the webhook to the exception, with the time of each hop",
            trigger: ".o_retail_trace_lines .o_data_row:contains(Webhook received)",
        },
        {
            trigger: ".o_retail_trace_lines .o_data_row:contains(confirmed):contains(+3 s)",
        },
        {
            trigger: ".o_retail_trace_lines .o_data_row:contains(Exception)",
        },
    ],
});
