from . import pii, field_lists, inventory
