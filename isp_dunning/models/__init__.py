from . import (
    account_move,
    account_move_line,
    isp_dunning_base_rate,
    isp_dunning_demo,
    isp_dunning_level,
    isp_dunning_notice,
    isp_dunning_notice_line,
    isp_dunning_run,
    res_company,
    res_config_settings,
    res_partner,
)
