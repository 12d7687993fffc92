from . import adapter
