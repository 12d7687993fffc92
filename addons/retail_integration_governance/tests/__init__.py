from . import test_pii, test_masking, test_inventory, test_neutralize, test_ui
