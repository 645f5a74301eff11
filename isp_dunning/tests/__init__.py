from . import (
    test_access,
    test_access_matrix,
    test_bad_input,
    test_cancellation,
    test_configuration,
    test_delivery,
    test_dunning_run,
    test_fee_documents,
    test_portal,
    test_reliability,
    test_run_costs,
    test_tour,
)
