"""Plain Python, no ORM: each provider's adapter in a package of its own
(``generic``, ``shopify``, ``woocommerce``: its mapper to the core's canonical
order, its API client), registered by key in ``adapter.ADAPTERS``; where a
product is listed on a channel and what it is told (``listing``); what an
answer means for an outbox delivery (``export``); a payment provider's payout
and its balance transactions (``payout``; Stripe's in ``stripe``, Shopify
Payments' in ``shopify``). Models call down into this
package, never the reverse. Importing it registers the providers."""

from . import generic, shopify, woocommerce
