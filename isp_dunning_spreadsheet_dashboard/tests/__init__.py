from . import test_dunning_dashboard
