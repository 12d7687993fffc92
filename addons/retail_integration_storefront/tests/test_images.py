import base64
import io
from urllib.parse import urlparse

from PIL import Image

from odoo.tests import HttpCase, tagged

from odoo.addons.queue_job.tests.common import trap_jobs
from odoo.addons.retail_integration_outbox.tests.common import allow_private_urls

from .channel_server import SHOPIFY_TOKEN, WOO_KEY, WOO_SECRET, ChannelServer
from .common import StorefrontMixin


def png(color):
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), color).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue())


@tagged("retail", "-at_install", "post_install")
class TestProductImages(StorefrontMixin, HttpCase):
    """New products carry their image: a URL Odoo signs, served only for
    that saleable, active product."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_storefront()
        cls.startClassPatcher(allow_private_urls())
        cls.server = cls.enterClassContext(ChannelServer())
        cls.shopify, cls.woo = cls.backends["shopify"], cls.backends["woocommerce"]
        credentials = {
            "shopify": {"api_secret": SHOPIFY_TOKEN},
            "woocommerce": {"api_key": WOO_KEY, "api_secret": WOO_SECRET},
        }
        for provider in credentials:
            cls.backends[provider].write(
                {
                    "storefront_shop_url": cls.server.url,
                    "storefront_publish_new": True,
                    **credentials[provider],
                }
            )
        Template = cls.env["product.template"]
        cls.lamp = Template.create(
            {"name": "Test Lamp", "default_code": "LAMP-1", "image_1920": png("red")}
        )
        cls.other = Template.create(
            {"name": "Other", "default_code": "OTHER-1", "image_1920": png("blue")}
        )

    def publish(self, template):
        with trap_jobs() as trap:
            template.action_retail_storefront_publish()
            trap.perform_enqueued_jobs()

    def test_published_products_carry_their_image(self):
        self.publish(self.lamp)
        (create,) = self.server.graphql_calls("productCreate(")
        (media,) = create["variables"]["media"]
        url = media["originalSource"]
        self.assertEqual(media["mediaContentType"], "IMAGE")
        (woo,) = [p for p in self.server.woo_products.values() if p["sku"] == "LAMP-1"]
        self.assertEqual(woo["images"], [{"src": url}])
        self.assertTrue(url.startswith(self.lamp.get_base_url()))
        path = urlparse(url).path
        answer = self.url_open(path)
        self.assertEqual(answer.status_code, 200)
        self.assertEqual(answer.headers["Content-Type"], "image/png")
        self.assertEqual(base64.b64encode(answer.content), self.lamp.image_1920)
        # a product without an image is published without one
        self.other.image_1920 = False
        self.publish(self.other)
        self.assertEqual(
            self.server.graphql_calls("productCreate(")[-1]["variables"]["media"], []
        )

    def test_only_signed_urls_of_saleable_products_are_served(self):
        path = urlparse(self.lamp._storefront_image_url()).path
        token = path.rsplit("/", 1)[1]
        other = f"/retail/storefront/image/{self.other.id}/{token}"
        for hostile in (
            other,  # another product's image with this product's signature
            path[:-1] + ("0" if path[-1] != "0" else "1"),
            f"/retail/storefront/image/{self.lamp.id}/x",
            "/retail/storefront/image/999999999/" + token,
        ):
            self.assertEqual(self.url_open(hostile).status_code, 404, hostile)
        self.assertEqual(self.url_open(path).status_code, 200)
        self.lamp.active = False  # archived: no longer served
        self.assertEqual(self.url_open(path).status_code, 404)
        self.lamp.write({"active": True, "sale_ok": False})
        self.assertEqual(self.url_open(path).status_code, 404)
