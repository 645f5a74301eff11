from . import (
    isp_dunning_analysis_mixin,
    isp_dunning_charges_report,
    isp_dunning_dso_report,
    isp_dunning_handover_report,
    isp_dunning_open_report,
    isp_dunning_recovery_report,
)
