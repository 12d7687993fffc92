"""Bounded capacity for each backend's queue_job channel.

queue_job's job runner creates a channel it has no configuration for with an
unlimited capacity inside its parent. With one channel per backend under
``root.retail``, a flood on one backend would then take every slot of
``root.retail`` and hold back all other backends. This module gives each
auto-created ``root.retail.<backend>`` channel a capacity of its own (the
``retail_channel_capacity`` option, 1 by default); a channel named in the
runner's ``channels`` option keeps what is configured there.
"""

RETAIL_CHANNEL = "root.retail"


def bound_backend_channels(channel_manager_class, capacity):
    """Patch ``ChannelManager.get_channel_by_name`` once; return the class."""
    original = channel_manager_class.get_channel_by_name
    if getattr(original, "_retail_bounded", False):
        return channel_manager_class

    def get_channel_by_name(
        self, channel_name, autocreate=False, parent_fallback=False
    ):
        count = len(self._channels_by_name)
        channel = original(self, channel_name, autocreate, parent_fallback)
        created = len(self._channels_by_name) > count
        # Judge by the name asked for: with parent_fallback, queue_job files the
        # new channel under a path of its own making (see its doctests).
        if not channel_name.startswith("root"):
            channel_name = f"root.{channel_name}"
        if (
            created
            and channel_name.rsplit(".", 1)[0] == RETAIL_CHANNEL
            and channel.capacity is None
        ):
            channel.capacity = capacity
        return channel

    get_channel_by_name._retail_bounded = True
    get_channel_by_name.__wrapped__ = original
    channel_manager_class.get_channel_by_name = get_channel_by_name
    return channel_manager_class
