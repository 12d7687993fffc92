from . import transports
from . import models
from . import wizards
