from . import lib
from . import models
from . import wizards
