from . import isp_dunning_preview_wizard
