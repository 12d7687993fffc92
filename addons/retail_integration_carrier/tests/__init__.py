from . import test_lib
from . import test_scheme
from . import test_easypost
from . import test_tracking
from . import test_json_carrier
from . import test_ui
