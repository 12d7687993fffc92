from odoo.tools import config

from .lib.channels import bound_backend_channels


def post_load():
    """Bound backend channels in the job runner (see lib/channels.py).

    Runs in every process that loads this module; list ``retail_integration``
    in ``server_wide_modules`` so that the job runner's process has it too.
    """
    from odoo.addons.queue_job.jobrunner.channels import ChannelManager

    capacity = int(config.get("retail_channel_capacity") or 1)
    bound_backend_channels(ChannelManager, capacity)
