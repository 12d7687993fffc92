from . import test_http
from . import test_import
from . import test_lib
from . import test_returns
from . import test_settlement
from . import test_ui
from . import test_outbox
