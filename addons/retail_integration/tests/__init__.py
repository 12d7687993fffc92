from . import test_secretbox
from . import test_channels
from . import test_secrets
from . import test_backend
from . import test_external_ref
from . import test_sync_exception
from . import test_security
from . import test_ui
