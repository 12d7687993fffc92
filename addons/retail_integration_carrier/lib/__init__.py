from . import scheme
from . import easypost_adapter
from . import json_adapter
