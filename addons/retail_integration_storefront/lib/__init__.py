"""Plain Python, no ORM: what a storefront order is and how each provider's
payload becomes one; the channels' API clients; where a product is listed on a
channel and what it is told. Models call down into this package, never the
reverse."""
