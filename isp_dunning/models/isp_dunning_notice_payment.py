from datetime import date

from stdnum import iban

from odoo import api, models

from ..domain import payment
from ..domain.money import to_decimal


class IspDunningNotice(models.Model):
    """The pay link of a notice: a public page secured by the notice's
    portal access token, the documents still open on it and the GiroCode
    (EPC QR code of a SEPA credit transfer) of the amount to pay."""

    _name = "isp.dunning.notice"
    _inherit = ["isp.dunning.notice", "portal.mixin"]

    # ------------------------------------------------------------------
    # Tokens and links
    # ------------------------------------------------------------------
    def _ensure_portal_tokens(self):
        """Give the notices an access token too, in one UPDATE."""
        result = super()._ensure_portal_tokens()
        missing = self.filtered(lambda notice: not notice.access_token)
        if missing:
            self.env.cr.execute(
                "UPDATE isp_dunning_notice SET access_token = gen_random_uuid()::text"
                " WHERE id = ANY(%s) AND access_token IS NULL",
                (missing.ids,),
            )
            missing.invalidate_recordset(["access_token"])
        return result

    def _dunning_pay_url(self, create_token=True):
        """The absolute pay link of the notice ('' for a cancelled one, or
        one without a token when ``create_token`` is false)."""
        self.ensure_one()
        if self.state not in payment.PAYABLE_STATES:
            return ""
        token = self.sudo().access_token
        if not token and create_token:
            token = self._portal_ensure_token()
        return payment.pay_url(self.company_id.get_base_url(), self.id, token)

    def _dunning_short_pay_url(self):
        """The short pay link printed on the letter ('' for a cancelled
        notice): it opens the same page as the pay link."""
        self.ensure_one()
        if self.state not in payment.PAYABLE_STATES:
            return ""
        token = self.sudo().access_token or self._portal_ensure_token()
        return payment.short_pay_url(self.company_id.get_base_url(), self.id, token)

    @api.model
    def _dunning_find_by_short_token(self, notice_id, short):
        """The notice (sudo) a short pay link opens, or an empty recordset."""
        notice = self.sudo().browse(notice_id).exists()
        if not notice or not payment.short_link_valid(notice.state, notice.access_token, short):
            return self.sudo().browse()
        return notice

    @api.model
    def _dunning_find_by_token(self, notice_id, token):
        """The notice (sudo) a pay link opens, or an empty recordset for a
        wrong token, an unknown or a cancelled notice."""
        notice = self.sudo().browse(notice_id).exists()
        if not notice or not payment.link_valid(notice.state, notice.access_token, token):
            return self.sudo().browse()
        return notice

    # ------------------------------------------------------------------
    # What is open now
    # ------------------------------------------------------------------
    def _dunning_open_moves(self):
        """The notice's invoices and fee documents still open today, in
        the order of the notice: invoices by due date, then the fees. The
        fee documents include the earlier ones its claim statement lists."""
        self.ensure_one()
        moves = (
            self.line_ids.move_id
            | self.move_ids
            | self.fee_move_ids
            | self._claim_earlier_charges()
        ).sudo()
        moves = moves.sorted(
            lambda m: (bool(m.dunning_fee_notice_id), m.invoice_date_due or date.max, m.id)
        )
        documents = [
            payment.Document(
                id=move.id,
                number=move.name or "",
                kind="fee" if move.dunning_fee_notice_id else "invoice",
                residual=to_decimal(move.amount_residual),
                posted=(
                    move.state == "posted"
                    and move.move_type == "out_invoice"
                    and move.currency_id == self.currency_id
                ),
            )
            for move in moves
        ]
        still_open = payment.open_documents(documents, to_decimal(self.currency_id.rounding))
        return moves.browse([document.id for document in still_open])

    def _dunning_open_credits(self):
        """The customer's open credits in the notice's currency as they stand
        now: the receivable lines of credit notes and of payments not yet
        allocated (any posted receivable line with a credit still open), in
        the order they are netted (domain.payment.open_credits)."""
        self.ensure_one()
        lines = (
            self.env["account.move.line"]
            .sudo()
            .search(
                [
                    ("company_id", "=", self.company_id.id),
                    ("parent_state", "=", "posted"),
                    ("account_id.account_type", "=", "asset_receivable"),
                    ("reconciled", "=", False),
                    (
                        "move_id.commercial_partner_id",
                        "=",
                        self.partner_id.commercial_partner_id.id,
                    ),
                    ("currency_id", "=", self.currency_id.id),
                    ("amount_residual_currency", "<", 0),
                ]
            )
        )
        credits = payment.open_credits(
            [self._dunning_credit_of(line) for line in lines],
            to_decimal(self.currency_id.rounding),
        )
        return lines.browse([credit.id for credit in credits])

    @api.model
    def _dunning_credit_of(self, line):
        """A receivable line with a credit open as the core sees it."""
        move = line.move_id
        return payment.Credit(
            id=line.id,
            number=move.name or "",
            kind="credit_note" if move.move_type == "out_refund" else "payment",
            amount=-to_decimal(line.amount_residual_currency),
            # its age: the day it was booked (a credit note's due date says nothing)
            date=line.date,
            posted=line.parent_state == "posted",
        )

    def _dunning_pay_claim(self, moves=None):
        """What the pay link shows and collects now: the notice's documents
        still open, the customer's open credits netted against them and the
        amount left to pay (domain.payment.net_credits).

        :returns: ``{"moves": account.move, "credit_lines": account.move.line
            netted, "netting": domain.payment.Netting}``
        """
        self.ensure_one()
        moves = self._dunning_open_moves() if moves is None else moves
        lines = self._dunning_open_credits()
        netting = payment.net_credits(
            [self._dunning_document_of(move) for move in moves],
            [self._dunning_credit_of(line) for line in lines],
            to_decimal(self.currency_id.rounding),
        )
        netted_ids = [netted.credit.id for netted in netting.credits]
        return {"moves": moves, "credit_lines": lines.browse(netted_ids), "netting": netting}

    @api.model
    def _dunning_document_of(self, move):
        return payment.Document(
            id=move.id, number=move.name or "", kind="", residual=to_decimal(move.amount_residual)
        )

    def _dunning_open_amount(self, moves=None):
        """What is left to pay on the notice now: its open documents less
        the customer's open credits, rounded once, never below zero."""
        return self._dunning_pay_claim(moves)["netting"].amount_due

    # ------------------------------------------------------------------
    # GiroCode
    # ------------------------------------------------------------------
    def _dunning_bank_account(self):
        """The company's account customers transfer to: the first IBAN."""
        self.ensure_one()
        banks = self.company_id.partner_id.sudo().bank_ids
        return banks.filtered(lambda b: iban.is_valid(b.acc_number or ""))[:1]

    def _dunning_girocode_params(self, amount):
        """Odoo's EPC QR data (SEPA credit transfer) for ``amount`` with the
        notice number as the reference; None when the company's account or
        the currency cannot carry one (no IBAN, not EUR, nothing to pay)."""
        self.ensure_one()
        bank = self._dunning_bank_account()
        amount = self.currency_id.round(float(amount or 0.0))
        if not bank or amount <= 0:
            return None
        vals = bank._build_qr_code_vals(
            amount, self.name, None, self.currency_id, self.partner_id, qr_method="sct_qr"
        )
        return vals and (bank, vals)

    def _dunning_girocode_payload(self, amount):
        """The EPC QR text, line by line as Odoo builds it ('' if none)."""
        found = self._dunning_girocode_params(amount)
        if not found:
            return ""
        bank, vals = found
        return "\n".join(bank._get_qr_vals(**vals))

    def _dunning_girocode_url(self, amount):
        """The absolute URL of the GiroCode image for mails and letters."""
        found = self._dunning_girocode_params(amount)
        if not found:
            return ""
        bank, vals = found
        return self.company_id.get_base_url() + bank._get_qr_code_url(**vals)

    def _dunning_girocode_image(self, amount):
        """The GiroCode as a data URI (for the pay page)."""
        found = self._dunning_girocode_params(amount)
        if not found:
            return ""
        bank, vals = found
        return bank._get_qr_code_base64(**vals)

    # ------------------------------------------------------------------
    # What the templates see
    # ------------------------------------------------------------------
    def _render_context(self, calendar=None):
        context = super()._render_context(calendar)
        context["notice"].update(
            pay_url=self._dunning_pay_url(),
            girocode_url=self._dunning_girocode_url(self.amount_total_due),
        )
        return context
