from . import test_lib
from . import test_health
from . import test_alerts
from . import test_security
from . import test_http
from . import test_trace
from . import test_ui
from . import test_registry
