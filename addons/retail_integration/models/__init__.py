from . import retail_secret_mixin
from . import retail_correlated_mixin
from . import retail_backend
from . import retail_external_ref
from . import retail_importer
from . import retail_sync_exception
from . import retail_job_lock
from . import retail_backend_jobs
