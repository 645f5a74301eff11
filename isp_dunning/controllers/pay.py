from odoo import http
from odoo.addons.account_payment.controllers.portal import PortalAccount
from odoo.exceptions import ValidationError
from odoo.fields import Command
from odoo.http import request

from ..domain import payment


class DunningPayLink(PortalAccount):
    """The pay link of a dunning notice: public, secured by the notice's
    access token, usable while the customer's portal login is blocked."""

    @http.route(
        f"{payment.PAY_PATH}/<int:notice_id>/<string:access_token>",
        type="http",
        auth="public",
        methods=["GET"],
        website=True,
        sitemap=False,
    )
    def dunning_pay_page(self, notice_id, access_token, **kwargs):
        notice = request.env["isp.dunning.notice"]._dunning_find_by_token(notice_id, access_token)
        if not notice:
            # One neutral page for every failure: nothing about the notice.
            return request.render("isp_dunning.pay_link_invalid", {}, status=404)
        notice = notice.with_context(lang=notice.partner_id.lang or request.env.lang)
        claim = notice._dunning_pay_claim()
        moves, netting = claim["moves"], claim["netting"]
        amount = netting.amount_due
        path = payment.pay_path(notice.id, access_token)
        lines = {line.id: line for line in claim["credit_lines"]}
        labels = {
            "credit_note": notice.env._("Credit note"),
            "payment": notice.env._("Payment"),
        }
        values = {
            "notice": notice,
            "moves": moves,
            # The credits netted, each with the part netted (the last one of
            # credits beyond the open amount only in part).
            "credits": [
                {
                    "move": lines[netted.credit.id].move_id,
                    "label": labels[netted.credit.kind],
                    "date": netted.credit.date,
                    "amount": float(netted.amount),
                }
                for netted in netting.credits
            ],
            "covered": netting.covered,
            "credit_left": float(netting.credit_left),
            "amount": float(amount),
            "currency": notice.currency_id,
            "company": notice.company_id,
            "res_company": notice.company_id,
            "girocode": notice._dunning_girocode_image(amount) if amount else "",
            "bank": notice._dunning_bank_account(),
        }
        if amount:
            values.update(
                self._get_common_page_view_values(
                    invoices_data={
                        "partner": notice.partner_id,
                        "company": notice.company_id,
                        "total_amount": float(amount),
                        "currency": notice.currency_id,
                        "amount_residual": float(amount),
                        "payment_reference": notice.name,
                        "landing_route": path,
                        "transaction_route": f"{path}/transaction",
                    },
                    access_token=access_token,
                )
            )
            # The payment form pays the amount computed here, never more.
            values["amount"] = float(amount)
        response = request.render("isp_dunning.pay_page", values)
        response.headers["X-Robots-Tag"] = "noindex, nofollow"
        response.headers["Referrer-Policy"] = "no-referrer"
        return response

    @http.route(
        f"{payment.SHORT_PAY_PATH}/<int:notice_id>/<string:short_token>",
        type="http",
        auth="public",
        methods=["GET"],
        website=True,
        sitemap=False,
    )
    def dunning_short_pay_link(self, notice_id, short_token, **kwargs):
        """The letter's short pay link: on to the notice's pay page."""
        notice = request.env["isp.dunning.notice"]._dunning_find_by_short_token(
            notice_id, short_token
        )
        if not notice:
            return request.render("isp_dunning.pay_link_invalid", {}, status=404)
        response = request.redirect(payment.pay_path(notice.id, notice.access_token), code=303)
        response.headers["Referrer-Policy"] = "no-referrer"
        return response

    @http.route(
        f"{payment.PAY_PATH}/<int:notice_id>/<string:access_token>/transaction",
        type="json",
        auth="public",
    )
    def dunning_pay_transaction(self, notice_id, access_token, **kwargs):
        """One payment transaction for every document still open on the
        notice, less the customer's open credits netted against them; Odoo's
        post-processing books the payment and reconciles it with the
        documents, and the credits with what they leave open
        (payment.transaction._create_payment). The amount is the one
        computed now, not the browser's."""
        notice = request.env["isp.dunning.notice"]._dunning_find_by_token(notice_id, access_token)
        if not notice:
            raise ValidationError(request.env._("This payment link is not valid."))
        claim = notice._dunning_pay_claim()
        moves, amount = claim["moves"], claim["netting"].amount_due
        if not moves or amount <= 0:
            raise ValidationError(request.env._("Nothing is left to pay on this notice."))
        self._validate_transaction_kwargs(kwargs)
        for key in ("amount", "landing_route", "csrf_token"):
            kwargs.pop(key, None)
        kwargs["is_validation"] = False
        tx_sudo = self._create_transaction(
            amount=float(amount),
            currency_id=notice.currency_id.id,
            partner_id=notice.partner_id.id,
            landing_route=payment.pay_path(notice.id, access_token),
            reference_prefix=notice.name,
            custom_create_values={
                "invoice_ids": [Command.set(moves.ids)],
                "dunning_credit_move_ids": [Command.set(claim["credit_lines"].move_id.ids)],
            },
            **kwargs,
        )
        if tx_sudo.provider_id.company_id != notice.company_id:
            # Rolled back with the request: only the notice's company is paid.
            raise ValidationError(request.env._("This payment method is not available."))
        return tx_sudo._get_processing_values()
