from . import retail_outbox_replay_wizard
