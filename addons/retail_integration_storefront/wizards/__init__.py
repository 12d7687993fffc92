from . import retail_storefront_map_product
