import { registry } from "@web/core/registry";

// An order desk user rates a quotation with the EasyPost shipping method,
// confirms it; the warehouse validates the delivery, which buys the label:
// the label and the tracking link are on the delivery order.
registry.category("web_tour.tours").add("retail_integration_carrier_tour", {
    steps: () => [
        {
            content: "Add shipping",
            trigger: "button[name=action_open_delivery_wizard]",
            run: "click",
        },
        {
            content: "Pick the EasyPost shipping method",
            trigger: ".modal .o_field_widget[name=carrier_id] input",
            run: "edit Tour EasyPost",
        },
        {
            trigger: ".o-autocomplete--dropdown-item:contains(Tour EasyPost)",
            run: "click",
        },
        {
            content: "Get the carrier's rate",
            trigger: ".modal button[name=update_price]",
            run: "click",
        },
        {
            content: "The rate is the carrier's USPS Priority rate",
            trigger: ".modal .o_field_widget[name=display_price]:contains(7.58)",
        },
        {
            content: "Add it to the order",
            trigger: ".modal button[name=button_confirm]:contains(Add)",
            run: "click",
        },
        {
            trigger: "body:not(:has(.modal)) .o_field_one2many[name=order_line] .o_data_row:contains(7.58)",
        },
        {
            content: "Confirm the order",
            trigger: "button[name=action_confirm]",
            run: "click",
        },
        {
            content: "Open its delivery",
            trigger: "button[name=action_view_delivery]",
            run: "click",
        },
        {
            content: "Validate: the label is bought",
            trigger: ".o_statusbar_buttons button[name=button_validate]",
            run: "click",
        },
        {
            content: "The delivery is done",
            trigger: ".o_statusbar_status button.o_arrow_button_current:contains(Done)",
        },
        {
            content: "Its label, printable in one click",
            trigger: "button[name=action_retail_print_labels]:contains(Labels)",
        },
        {
            content: "Its tracking number, and the label in the chatter",
            trigger: ".o-mail-Message-body:contains(Labels bought: 9400)",
        },
        {
            content: "Its tracking link",
            trigger: "button[name=open_website_url]:contains(Tracking)",
        },
    ],
});

// After the carrier's "delivered" webhook: the status and the history.
registry.category("web_tour.tours").add("retail_integration_carrier_delivered_tour", {
    steps: () => [
        {
            content: "The delivery is delivered",
            trigger: ".o_field_widget[name=retail_tracking_status]:contains(Delivered)",
        },
        {
            content: "Open the tracking history",
            trigger: "a.nav-link:contains(Tracking)",
            run: "click",
        },
        {
            content: "The carrier's scan is there",
            trigger: ".o_field_widget[name=retail_tracking_event_ids] .o_data_row:contains(Delivered, front door)",
        },
    ],
});
