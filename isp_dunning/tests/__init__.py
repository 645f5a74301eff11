from . import test_access, test_configuration, test_dunning_run
