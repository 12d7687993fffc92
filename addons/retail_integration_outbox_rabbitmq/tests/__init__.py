from . import test_lib_broker
from . import test_rabbitmq
