"""The GraphQL Admin API documents the Shopify client sends."""

MONEY = "shopMoney { amount }"
ADDRESS = (
    "name firstName lastName company address1 address2 city zip provinceCode "
    "countryCodeV2 phone"
)
ALLOCATIONS = f"""discountAllocations {{
    allocatedAmountSet {{ {MONEY} }}
    discountApplication {{
        ... on DiscountCodeApplication {{ code }}
        ... on ManualDiscountApplication {{ title }}
    }}
}}"""
ORDER_FIELDS = f"""
      legacyResourceId name email note updatedAt cancelledAt closedAt
      displayFinancialStatus taxesIncluded currencyCode
      totalPriceSet {{ {MONEY} }}
      totalTipReceivedSet {{ {MONEY} }}
      originalTotalDutiesSet {{ {MONEY} }}
      currentTotalDutiesSet {{ {MONEY} }}
      customer {{ legacyResourceId email firstName lastName phone }}
      billingAddress {{ {ADDRESS} }}
      shippingAddress {{ {ADDRESS} }}
      lineItems(first: 250) {{ nodes {{
        id name sku quantity variant {{ legacyResourceId }}
        originalUnitPriceSet {{ {MONEY} }}
        {ALLOCATIONS}
      }} }}
      shippingLines(first: 20) {{ nodes {{
        title code originalPriceSet {{ {MONEY} }}
        {ALLOCATIONS}
      }} }}"""
ORDERS_QUERY = f"""
query Orders($first: Int!, $after: String, $query: String) {{
  orders(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {{
    pageInfo {{ hasNextPage endCursor }}
    nodes {{ {ORDER_FIELDS}
    }}
  }}
}}
"""
ORDER_QUERY = f"""
query Order($id: ID!) {{
  order(id: $id) {{ {ORDER_FIELDS}
  }}
}}
"""

LOCATIONS_QUERY = "{ locations(first: 1) { nodes { id name } } }"
VARIANTS_QUERY = """
query Variants($first: Int!, $after: String, $query: String, $location: ID!) {
  productVariants(first: $first, after: $after, query: $query) {
    pageInfo { hasNextPage endCursor }
    nodes {
      legacyResourceId sku price
      product { legacyResourceId title status }
      inventoryItem {
        legacyResourceId
        inventoryLevel(locationId: $location) {
          quantities(names: ["available"]) { name quantity }
        }
      }
    }
  }
}
"""
SET_QUANTITIES = """
mutation SetQuantities($input: InventorySetQuantitiesInput!) {
  inventorySetQuantities(input: $input) {
    userErrors { code field message }
  }
}
"""
FULFILLMENT_ORDERS_QUERY = """
query FulfillmentOrders($id: ID!) {
  order(id: $id) {
    fulfillmentOrders(first: 20) {
      nodes {
        id status
        assignedLocation { location { id } }
        lineItems(first: 250) {
          nodes { id remainingQuantity sku variant { legacyResourceId } }
        }
      }
    }
  }
}
"""
FULFILLMENT_CREATE = """
mutation Fulfil($fulfillment: FulfillmentInput!) {
  fulfillmentCreate(fulfillment: $fulfillment) {
    fulfillment { id status }
    userErrors { field message }
  }
}
"""
WEBHOOK_CREATE = """
mutation Hook($topic: WebhookSubscriptionTopic!,
              $webhookSubscription: WebhookSubscriptionInput!) {
  webhookSubscriptionCreate(topic: $topic, webhookSubscription: $webhookSubscription) {
    webhookSubscription { id }
    userErrors { field message }
  }
}
"""
WEBHOOKS_QUERY = """
query Hooks($after: String) {
  webhookSubscriptions(first: 100, after: $after) {
    pageInfo { hasNextPage endCursor }
    nodes {
      id topic
      endpoint { __typename ... on WebhookHttpEndpoint { callbackUrl } }
    }
  }
}
"""
WEBHOOK_DELETE = """
mutation Unhook($id: ID!) {
  webhookSubscriptionDelete(id: $id) {
    deletedWebhookSubscriptionId
    userErrors { field message }
  }
}
"""
ORDER_FULFILLMENTS_QUERY = """
query OrderFulfillments($id: ID!) {
  order(id: $id) {
    fulfillments(first: 50) { id displayStatus trackingInfo { number } }
  }
}
"""
FULFILLMENT_EVENT_CREATE = """
mutation FulfillmentEventCreate($fulfillmentEvent: FulfillmentEventInput!) {
  fulfillmentEventCreate(fulfillmentEvent: $fulfillmentEvent) {
    fulfillmentEvent { id status }
    userErrors { field message }
  }
}
"""
PRODUCT_CREATE = """
mutation ProductCreate($product: ProductCreateInput!, $media: [CreateMediaInput!]) {
  productCreate(product: $product, media: $media) {
    product { id legacyResourceId }
    userErrors { field message }
  }
}
"""
PRODUCT_VARIANTS_CREATE = """
mutation VariantsCreate(
  $productId: ID!, $variants: [ProductVariantsBulkInput!]!,
  $strategy: ProductVariantsBulkCreateStrategy
) {
  productVariantsBulkCreate(
    productId: $productId, variants: $variants, strategy: $strategy
  ) {
    productVariants { legacyResourceId sku inventoryItem { legacyResourceId } }
    userErrors { field message }
  }
}
"""
PAYOUTS_QUERY = """
query Payouts($first: Int!, $after: String, $query: String) {
  shopifyPaymentsAccount {
    payouts(first: $first, after: $after, query: $query) {
      nodes {
        id legacyResourceId issuedAt status transactionType
        net { amount currencyCode }
      }
      pageInfo { hasNextPage endCursor }
    }
  }
}
"""
BALANCE_TRANSACTIONS_QUERY = """
query PayoutTransactions($first: Int!, $after: String, $query: String) {
  shopifyPaymentsAccount {
    balanceTransactions(first: $first, after: $after, query: $query) {
      nodes {
        id type test transactionDate sourceOrderTransactionId
        amount { amount currencyCode }
        fee { amount currencyCode }
        net { amount currencyCode }
        associatedOrder { id name }
        associatedPayout { id status }
      }
      pageInfo { hasNextPage endCursor }
    }
  }
}
"""
PRICE_LIST_FIXED_PRICES_ADD = """
mutation PriceListFixedPricesAdd($priceListId: ID!, $prices: [PriceListPriceInput!]!) {
  priceListFixedPricesAdd(priceListId: $priceListId, prices: $prices) {
    prices { variant { id } price { amount currencyCode } }
    userErrors { field code message }
  }
}
"""
