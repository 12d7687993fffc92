from . import test_lib_retry
from . import test_lib_ssrf
from . import test_lib_events
from . import test_capture
from . import test_dispatch
from . import test_subscription
from . import test_ui
from . import test_deliver
