"""The personal fields of the suite's providers' payloads (readme/USAGE.md
lists them too). Sources: each provider's API reference for the objects its
webhooks carry, checked against the payloads of the connectors' tests."""

from .pii import FieldList, register

# Canonical order JSON of the generic storefront (demo/sample_order.json), and
# the list of any provider no module registered a list for.
register(
    "generic",
    FieldList(
        "Generic JSON storefront",
        keys=frozenset({"email", "phone", "note", "first_name", "last_name"}),
        containers=frozenset({"customer", "billing_address", "shipping_address"}),
        providers=("generic",),
    ),
)

# Shopify order / customer webhooks (Admin REST API, Order and Customer).
register(
    "shopify",
    FieldList(
        "Shopify",
        keys=frozenset(
            {
                "email",
                "contact_email",
                "phone",
                "first_name",
                "last_name",
                "browser_ip",
                "note",
                "note_attributes",
                "customer_locale",
            }
        ),
        containers=frozenset(
            {
                "customer",
                "billing_address",
                "shipping_address",
                "default_address",
                "addresses",
                "client_details",
                "destination",
            }
        ),
        providers=("shopify",),
    ),
)

# WooCommerce order / customer webhooks (REST API v3).
register(
    "woocommerce",
    FieldList(
        "WooCommerce",
        keys=frozenset(
            {
                "email",
                "first_name",
                "last_name",
                "username",
                "avatar_url",
                "customer_ip_address",
                "customer_user_agent",
                "customer_note",
            }
        ),
        containers=frozenset({"billing", "shipping"}),
        providers=("woocommerce",),
    ),
)

# Stripe events reach a storefront's endpoint (payment_intent.*, charge.*,
# payout.*): the charge's billing details, receipt e-mail and shipping; a
# Checkout Session's customer e-mail; a legacy card source's address fields.
register(
    "stripe",
    FieldList(
        "Stripe",
        keys=frozenset(
            {
                "receipt_email",
                "customer_email",
                "email",
                "phone",
                "name",
                "address_line1",
                "address_line2",
                "address_city",
                "address_zip",
                "address_state",
            }
        ),
        containers=frozenset(
            {"billing_details", "shipping", "customer_details", "owner", "address"}
        ),
        topics=("payment_intent.", "charge.", "payout.", "customer.", "checkout."),
    ),
)

# Store POS canonical tickets and Z reports (retail_integration_pos
# schemas/ticket.v1.json: the customer, the cashier), on any POS provider.
register(
    "pos_tickets",
    FieldList(
        "Canonical POS tickets",
        keys=frozenset({"cashier", "email", "phone"}),
        containers=frozenset({"customer"}),
        topics=("pos.",),
    ),
)

# Square orders and payments (Orders and Payments API objects: fulfillment
# recipients, card holder, buyer e-mail, addresses).
register(
    "square",
    FieldList(
        "Square POS",
        keys=frozenset(
            {
                "email_address",
                "buyer_email_address",
                "phone_number",
                "display_name",
                "given_name",
                "family_name",
                "cardholder_name",
                "note",
            }
        ),
        containers=frozenset(
            {"customer", "recipient", "shipping_address", "billing_address", "address"}
        ),
        providers=("square",),
    ),
)

# EasyPost tracker events: who signed, and where the parcel was scanned.
register(
    "easypost",
    FieldList(
        "EasyPost tracking",
        keys=frozenset({"signed_by", "origin_location", "destination_location"}),
        containers=frozenset(
            {
                "tracking_location",
                "origin_tracking_location",
                "destination_tracking_location",
                "to_address",
                "from_address",
                "buyer_address",
                "return_address",
            }
        ),
        providers=("easypost",),
    ),
)

# Outbox event data (retail_integration_outbox/models/tools.py partner_data:
# the order's partner and shipping partner keep their id, ref and country).
register(
    "outbox",
    FieldList(
        "Outbox event payloads",
        keys=frozenset({"email", "phone", "mobile"}),
        containers=frozenset(
            {"partner", "shipping_partner", "customer", "recipient", "address"}
        ),
        providers=("outbox",),
    ),
)
