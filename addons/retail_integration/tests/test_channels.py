from odoo.tests import BaseCase, tagged

from odoo.addons.queue_job.jobrunner.channels import ChannelManager

from ..lib.channels import bound_backend_channels


@tagged("retail", "-at_install", "post_install")
class TestBackendChannels(BaseCase):
    """queue_job's own scheduler, with backend channels bounded."""

    def _manager(self, config, bounded=True):
        # post_load may already have bounded ChannelManager in this process:
        # start from queue_job's own method either way.
        original = ChannelManager.get_channel_by_name
        original = getattr(original, "__wrapped__", original)
        manager_class = type(
            "Manager", (ChannelManager,), {"get_channel_by_name": original}
        )
        if bounded:
            bound_backend_channels(manager_class, capacity=1)
        manager = manager_class()
        manager.simple_configure(config)
        return manager

    def _notify(self, manager, channel, uuid, seq):
        manager.notify("db", channel, uuid, seq, seq, 10, None, "pending")

    def test_backend_channel_gets_its_own_capacity(self):
        manager = self._manager("root:4,root.retail:4,root.retail.big:3")
        channel = manager.get_channel_by_name("root.retail.shop", parent_fallback=True)
        self.assertEqual(channel.capacity, 1)
        configured = manager.get_channel_by_name(
            "root.retail.big", parent_fallback=True
        )
        self.assertEqual(configured.capacity, 3)
        other = manager.get_channel_by_name("root.other", parent_fallback=True)
        self.assertIsNone(other.capacity, "only backend channels are bounded")

    def test_a_flood_on_one_backend_leaves_room_for_another(self):
        manager = self._manager("root:4,root.retail:4")
        for seq in range(50):
            self._notify(manager, "root.retail.flooded", f"flood-{seq}", seq)
        self._notify(manager, "root.retail.quiet", "quiet-1", 100)
        running = {job.uuid for job in manager.get_jobs_to_run(now=10**10)}
        self.assertIn("quiet-1", running)
        self.assertEqual(len([u for u in running if u.startswith("flood")]), 1)

    def test_without_the_bound_a_flood_takes_every_slot(self):
        manager = self._manager("root:4,root.retail:4", bounded=False)
        for seq in range(50):
            self._notify(manager, "root.retail.flooded", f"flood-{seq}", seq)
        self._notify(manager, "root.retail.quiet", "quiet-1", 100)
        running = {job.uuid for job in manager.get_jobs_to_run(now=10**10)}
        self.assertNotIn("quiet-1", running)
