from . import test_mappers
from . import test_orders
from . import test_providers
from . import test_pull
from . import test_http
from . import test_ui
from . import test_lib_export
from . import test_export
