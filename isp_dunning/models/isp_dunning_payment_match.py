"""Payments quoting a notice number are allocated to that notice's open
items in the order of § 367 BGB (costs, interest, principal); the rule is
``domain.allocation``, this step reads the items and reconciles."""

import logging
from decimal import Decimal

from odoo import api, models
from odoo.exceptions import AccessError, UserError

from ..domain import allocation
from ..domain.money import to_decimal

_logger = logging.getLogger(__name__)


class IspDunningPaymentMatch(models.AbstractModel):
    _name = "isp.dunning.payment.match"
    _description = "Dunning: Allocation of Payments to Notices"

    # ------------------------------------------------------------------
    # Entry points
    # ------------------------------------------------------------------
    @api.model
    def action_match_payments(self):
        """Menu *Match Payments to Notices* (dunning users and managers)."""
        if not (self.env.su or self.env.user.has_group("isp_dunning.group_dunning_user")):
            raise AccessError(self.env._("Only dunning users can match payments to notices."))
        # The rule decides every amount; the user needs no accounting rights.
        stats = self.sudo()._match_payments(self.env.companies)
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": self.env._("Match Payments to Notices"),
                "message": self.env._(
                    "%(matched)s payments allocated to notices, %(failed)s could not be "
                    "allocated (see the server log).",
                    matched=stats["matched"],
                    failed=stats["failed"],
                ),
                "type": "warning" if stats["failed"] else "success",
                "sticky": False,
            },
        }

    @api.model
    def _match_payments(self, companies):
        """Allocate every unreconciled incoming payment and bank statement
        line of ``companies`` whose reference quotes a notice number.

        Idempotent: what is allocated is reconciled and not found again (a
        surplus stays open, but the notice has nothing left to take). Each
        payment is matched in a savepoint: one that fails is logged and
        left as it was; the others go on."""
        stats = {"matched": 0, "failed": 0}
        candidates = self._unmatched_payments(companies) + self._unmatched_statement_lines(
            companies
        )
        tokens = set()
        for _record, text in candidates:
            tokens.update(allocation.reference_tokens(text))
        if not tokens:
            return stats
        notices = self.env["isp.dunning.notice"].search(
            [
                ("name", "in", sorted(tokens)),
                ("state", "not in", ("cancelled", "proposed", "released")),
                ("company_id", "in", companies.ids),
            ]
        )
        by_name = {notice.name.upper(): notice for notice in notices}
        for record, text in candidates:
            quoted = self.env["isp.dunning.notice"].browse(
                [
                    by_name[token].id
                    for token in allocation.reference_tokens(text)
                    if token in by_name and by_name[token].company_id == record.company_id
                ]
            )
            if not quoted:
                continue
            try:
                with self.env.cr.savepoint():
                    if record._name == "account.payment":
                        result = self._match_payment(record, quoted, text)
                    else:
                        result = self._match_statement_line(record, quoted, text)
            except Exception as error:  # noqa: BLE001 - one bad payment never stops the others
                stats["failed"] += 1
                _logger.warning(
                    "Dunning: %s %s (%s) not allocated to %s: %s",
                    record._description,
                    record.id,
                    text,
                    ", ".join(quoted.mapped("name")),
                    error,
                )
                continue
            if result and result.allocations:
                stats["matched"] += 1
        return stats

    def _unmatched_payments(self, companies):
        payments = self.env["account.payment"].search(
            [
                ("company_id", "in", companies.ids),
                ("payment_type", "=", "inbound"),
                ("partner_type", "=", "customer"),
                ("state", "in", ("in_process", "paid")),
                ("move_id", "!=", False),
                ("is_reconciled", "=", False),
                "|",
                ("memo", "!=", False),
                ("payment_reference", "!=", False),
            ],
            order="date, id",
        )
        return [
            (payment, " ".join(filter(None, [payment.memo, payment.payment_reference])))
            for payment in payments
        ]

    def _unmatched_statement_lines(self, companies):
        lines = self.env["account.bank.statement.line"].search(
            [
                ("company_id", "in", companies.ids),
                ("is_reconciled", "=", False),
                ("amount", ">", 0),
                ("payment_ref", "!=", False),
                ("state", "=", "posted"),
            ],
            order="date, id",
        )
        return [(line, line.payment_ref) for line in lines]

    # ------------------------------------------------------------------
    # One payment
    # ------------------------------------------------------------------
    def _match_payment(self, payment, notices, text):
        counterpart = payment._seek_for_lines()[1].filtered(
            lambda line: (
                line.account_id.account_type == "asset_receivable"
                and not line.reconciled
                and line.amount_residual_currency < 0
            )
        )
        if len(counterpart) != 1:
            raise UserError(self.env._("The payment has no open receivable line."))
        self._check_partner(counterpart.partner_id, notices)
        return self._allocate(counterpart, notices, text, payment.display_name)

    def _match_statement_line(self, st_line, notices, text):
        """A statement line's entry holds a suspense line until it is
        reconciled. As Odoo Community does without the bank reconciliation
        widget, that line becomes a receivable line of the customer and is
        reconciled with the notice's items."""
        partner = notices.partner_id.commercial_partner_id
        self._check_partner(st_line.partner_id, notices)
        _items, lines = self._open_items(notices)
        if not lines:
            return None
        if not st_line.partner_id:
            st_line.partner_id = partner
        _liquidity, suspense, other = st_line.with_context(
            skip_account_move_synchronization=True
        )._seek_for_lines()
        if len(suspense) != 1 or other:
            raise UserError(self.env._("The statement line is already partly reconciled."))
        suspense.write({"account_id": lines[:1].account_id.id, "partner_id": partner.id})
        return self._allocate(suspense, notices, text, st_line.display_name)

    def _check_partner(self, partner, notices):
        customers = notices.partner_id.commercial_partner_id
        if len(customers) != 1:
            raise UserError(self.env._("The reference quotes notices of different customers."))
        if partner and partner.commercial_partner_id != customers:
            raise UserError(
                self.env._(
                    "The payment comes from %(payer)s, the notice is addressed to %(customer)s.",
                    payer=partner.display_name,
                    customer=customers.display_name,
                )
            )

    def _allocate(self, counterpart, notices, text, label):
        """Reconcile ``counterpart`` (a credit on the customer's receivable)
        with the notices' open items in the order of § 367 BGB and return
        the allocation. Only items on the counterpart's account and in its
        currency can be reconciled with it; the others are left open."""
        currency = counterpart.currency_id
        if notices.currency_id != currency:
            raise UserError(
                self.env._(
                    "The payment is in %(payment)s, the notice in %(notice)s.",
                    payment=currency.name,
                    notice=", ".join(notices.currency_id.mapped("name")),
                )
            )
        items, lines = self._open_items(notices, account=counterpart.account_id)
        documents = lines.move_id.mapped("name")
        result = allocation.allocate(
            -to_decimal(counterpart.amount_residual_currency),
            items,
            named=allocation.named_documents(text, documents),
            precision=to_decimal(currency.rounding),
        )
        for line_id, amount in result.per_key():
            line = lines.browse(line_id)
            before = line.amount_residual_currency
            (counterpart + line).reconcile()
            booked = currency.round(before - line.amount_residual_currency)
            if currency.compare_amounts(booked, float(amount)) != 0:
                raise UserError(
                    self.env._(
                        "%(line)s took %(booked)s instead of %(planned)s.",
                        line=line.move_id.display_name,
                        booked=booked,
                        planned=amount,
                    )
                )
        if result.allocations:
            self._report(notices, result, label, currency)
        return result

    @api.model
    def _open_items(self, notices, account=None):
        """The notices' open receivable items as ``allocation.OpenItem`` and
        their journal items: each fee document (their own and the earlier
        ones their claim states) as its open costs and its open interest,
        each invoice (instalment) as principal."""
        moves = (
            notices.move_ids | notices.fee_move_ids | notices._claim_earlier_charges()
        ).filtered(lambda move: move.state == "posted")
        lines = moves.line_ids.filtered(
            lambda line: (
                line.account_id.account_type == "asset_receivable"
                and not line.reconciled
                and line.amount_residual_currency > 0
                and (account is None or line.account_id == account)
            )
        )
        precision = to_decimal(notices.currency_id[:1].rounding or 0.01)
        items = []
        for line in lines:
            move = line.move_id
            open_amount = to_decimal(line.amount_residual_currency)
            fee_notice = move.dunning_fee_notice_id
            if fee_notice:
                costs, interest = allocation.split_fee_document(
                    open_amount,
                    to_decimal(fee_notice.fee_amount) + to_decimal(fee_notice.lump_sum_amount),
                    to_decimal(fee_notice.interest_amount),
                    precision,
                )
                day = move.invoice_date or move.date
                for kind, amount in ((allocation.COSTS, costs), (allocation.INTEREST, interest)):
                    if amount:
                        items.append(allocation.OpenItem(line.id, kind, day, amount, move.name))
            else:
                day = line.date_maturity or move.invoice_date_due or move.date
                items.append(
                    allocation.OpenItem(
                        line.id, allocation.PRINCIPAL, day, open_amount, move.name or ""
                    )
                )
        return items, lines

    def _report(self, notices, result, label, currency):
        kinds = result.by_kind()

        def money(value):
            return f"{Decimal(value):.{currency.decimal_places}f} {currency.name}"

        body = self.env._(
            "%(payment)s allocated (§ 367 BGB: costs, interest, principal): costs "
            "%(costs)s, interest %(interest)s, principal %(principal)s; not allocated "
            "%(surplus)s.",
            payment=label,
            costs=money(kinds[allocation.COSTS]),
            interest=money(kinds[allocation.INTEREST]),
            principal=money(kinds[allocation.PRINCIPAL]),
            surplus=money(result.surplus),
        )
        for notice in notices.sudo():
            notice.message_post(body=body)
