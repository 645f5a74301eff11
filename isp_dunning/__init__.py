from . import controllers, models, report, wizard


def post_init_hook(env):
    """Companies that have a chart of accounts get dunning's income accounts
    and journal."""
    env["res.company"].search([("chart_template", "!=", False)])._dunning_setup_accounting()
