"""Small pieces the canonical payloads share."""


def partner_data(partner):
    if not partner:
        return None
    return {
        "id": partner.id,
        "name": partner.name,
        "email": partner.email or None,
        "ref": partner.ref or None,
        "country": partner.country_id.code or None,
    }


def product_data(product):
    if not product:
        return None
    return {
        "id": product.id,
        "sku": product.default_code or None,
        "barcode": product.barcode or None,
        "name": product.name,
    }


def refs_data(record):
    """The ids ``record`` has in each backend: {backend code: external id}."""
    refs = (
        record.env["retail.external.ref"]
        # sudo: a payload names the record's external ids whatever the changer may read
        .sudo()
        .search([("res_model", "=", record._name), ("res_id", "=", record.id)])
    )
    return {ref.backend_id.code: ref.external_id for ref in refs}
