"""The table a preview shows: what a run would do, per notice."""

from markupsafe import Markup

from ..domain.money import format_money


def preview_table(env, rows):
    """The preview's table: one row per notice the run would create."""
    if not rows:
        return Markup("<p>%s</p>") % env._("Nothing is due on this date.")
    partners = env["res.partner"].browse({pid for pid, _n in rows})
    names = {p.id: p.display_name for p in partners}
    levels = {
        lv.id: lv.name for lv in env["isp.dunning.level"].browse({n.level.id for _p, n in rows})
    }
    moves = env["account.move"].browse({line.move_id for _p, n in rows for line in n.lines})
    move_names = {m.id: m.name for m in moves}
    currencies = env["res.currency"].browse({n.currency for _p, n in rows})
    symbols = {c.id: c.symbol for c in currencies}
    head = Markup(
        "<table class='table table-sm'><thead><tr><th>%s</th><th>%s</th>"
        "<th>%s</th><th class='text-end'>%s</th><th class='text-end'>%s</th>"
        "<th class='text-end'>%s</th><th class='text-end'>%s</th><th>%s</th>"
        "</tr></thead><tbody>"
    ) % (
        env._("Customer"),
        env._("Invoices"),
        env._("New level"),
        env._("Open"),
        env._("Fee"),
        env._("Lump sums"),
        env._("Interest"),
        env._("Portal"),
    )
    body = Markup()
    open_label = env._("open")
    for partner_id, notice in rows:
        symbol = symbols.get(notice.currency, "")
        invoices = ", ".join(
            move_names[line.move_id] + ("" if line.escalated else f" ({open_label})")
            for line in notice.lines
        )
        body += Markup(
            "<tr><td>%s</td><td>%s</td><td>%s</td><td class='text-end'>%s</td>"
            "<td class='text-end'>%s</td><td class='text-end'>%s</td>"
            "<td class='text-end'>%s</td><td>%s</td></tr>"
        ) % (
            names[partner_id],
            invoices,
            levels[notice.level.id],
            format_money(notice.amount_open, symbol),
            format_money(notice.fee_amount, symbol),
            format_money(notice.lump_sum_amount, symbol),
            format_money(notice.interest_amount, symbol),
            env._("blocked") if notice.level.block_portal else "",
        )
    return head + body + Markup("</tbody></table>")
