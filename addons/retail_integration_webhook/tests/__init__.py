from . import test_schemes
from . import test_scheme_registry
from . import test_ratelog
from . import test_receive
from . import test_receive_keys
from . import test_rpc_actions
from . import test_processing
from . import test_ui
