from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.fields import Command


class IspDunningDemo(models.AbstractModel):
    """Builds the demo book: posted invoices in every dunning situation,
    dated relative to the day the demo is installed."""

    _name = "isp.dunning.demo"
    _description = "Dunning Demo Data"

    @api.model
    def _invoice_journal(self, company):
        """The company's customer invoice journal, not dunning's own."""
        return self.env["account.journal"].search(
            [
                ("type", "=", "sale"),
                ("company_id", "=", company.id),
                ("id", "!=", company.dunning_journal_id.id),
            ],
            limit=1,
        )

    @api.model
    def _create_demo_invoices(self):
        company = self.env.ref("base.main_company")
        env = self.with_company(company).env
        journal = self._invoice_journal(company)
        if not journal:
            return  # no chart of accounts yet: nothing can be invoiced
        today = fields.Date.context_today(self)
        product = env.ref("isp_dunning.demo_product_internet")
        term_14 = env["account.payment.term"].create(
            {
                "name": "14 days (demo)",
                "line_ids": [
                    Command.create({"value": "percent", "value_amount": 100, "nb_days": 14})
                ],
            }
        )
        term_split = env["account.payment.term"].create(
            {
                "name": "50 % in 14 days, 50 % in 44 days (demo)",
                "line_ids": [
                    Command.create({"value": "percent", "value_amount": 50, "nb_days": 14}),
                    Command.create({"value": "percent", "value_amount": 50, "nb_days": 44}),
                ],
            }
        )

        def invoice(xmlid, days_ago, price, term=term_14, qty=1):
            move = env["account.move"].create(
                {
                    "move_type": "out_invoice",
                    "partner_id": env.ref(f"isp_dunning.{xmlid}").id,
                    "journal_id": journal.id,
                    "invoice_date": today - timedelta(days=days_ago),
                    "invoice_payment_term_id": term.id,
                    "invoice_line_ids": [
                        Command.create(
                            {"product_id": product.id, "quantity": qty, "price_unit": price}
                        )
                    ],
                }
            )
            move.action_post()
            return move

        def pay(move, amount, days_ago):
            env["account.payment.register"].with_context(
                active_model="account.move", active_ids=move.ids
            ).create(
                {"amount": amount, "payment_date": today - timedelta(days=days_ago)}
            )._create_payments()

        # Max Mustermann: three monthly invoices, none paid.
        for days_ago in (95, 65, 35):
            invoice("demo_partner_mustermann", days_ago, 39.99)
        # Erika Musterfrau: partly paid.
        pay(invoice("demo_partner_musterfrau", 60, 49.99), 20.00, 30)
        # Beispiel Netzwerke GmbH: a business with a large old invoice.
        invoice("demo_partner_beispiel", 110, 1050.42)
        invoice("demo_partner_beispiel", 40, 335.29)
        # Jonas Schmidt: paid in full.
        pay(invoice("demo_partner_schmidt", 60, 39.99), 47.59, 50)
        # Lena Becker: disputes her invoice.
        disputed = invoice("demo_partner_becker", 70, 79.99)
        disputed.write(
            {
                "dunning_blocked_until": today + timedelta(days=21),
                "dunning_block_reason": "dispute",
            }
        )
        # Café Sonnenschein: invoice credited in full.
        credited = invoice("demo_partner_sonnenschein", 45, 89.00)
        credited._reverse_moves([{"ref": "Gutschrift Ausfall"}], cancel=True)
        # Tim Wagner: paid, the payment is not reconciled yet (netted).
        wagner = invoice("demo_partner_wagner", 50, 49.99)
        payment = env["account.payment"].create(
            {
                "payment_type": "inbound",
                "partner_type": "customer",
                "partner_id": wagner.partner_id.id,
                "amount": wagner.amount_total,
                "date": today - timedelta(days=5),
            }
        )
        payment.action_post()
        # Paul Fischer: due, but not yet late enough for a reminder.
        invoice("demo_partner_fischer", 17, 39.99)
        # Musterhaus Immobilien GmbH: two instalments.
        invoice("demo_partner_musterhaus", 75, 1200.00, term=term_split)

    @api.model
    def _create_demo_promises(self, day):
        """Two payment promises made on ``day`` in the demo's history: Erika
        Musterfrau promises her open amount in a week and pays it (kept);
        Musterhaus Immobilien GmbH agrees to two instalments of 300.00, pays
        the first and not the second (broken: the next notice says so)."""
        company = self.env.ref("base.main_company")
        env = self.with_company(company).env
        Promise = env["isp.dunning.promise"]
        made = []
        for xmlid, instalments, payments in (
            ("demo_partner_musterfrau", [(7, None)], [(5, None)]),
            ("demo_partner_musterhaus", [(7, 300.0), (21, 300.0)], [(6, 300.0)]),
        ):
            partner = env.ref(f"isp_dunning.{xmlid}")
            invoices = env["account.move"].search(
                [
                    ("partner_id", "=", partner.id),
                    ("move_type", "=", "out_invoice"),
                    ("state", "=", "posted"),
                    ("payment_state", "in", ("not_paid", "partial")),
                    ("dunning_fee_notice_id", "=", False),
                ]
            )
            if not invoices:
                continue
            open_amount = sum(invoices.mapped("amount_residual"))
            promise = Promise.create(
                {
                    "partner_id": partner.id,
                    "date": day,
                    "move_ids": [Command.set(invoices.ids)],
                    "line_ids": [
                        Command.create(
                            {"date": day + timedelta(days=days), "amount": amount or open_amount}
                        )
                        for days, amount in instalments
                    ],
                    "note": "Telefonat mit der Buchhaltung (Demo)",
                }
            )
            for days, amount in payments:
                env["account.payment.register"].with_context(
                    active_model="account.move", active_ids=invoices[:1].ids
                ).create(
                    {"amount": amount or open_amount, "payment_date": day + timedelta(days=days)}
                )._create_payments()
            made.append(promise)
        return made

    @api.model
    def _create_demo_transfer(self, notice, amount=None):
        """A bank statement line of the customer's transfer of ``amount``
        (default: all that is open on the notice today) on the company's
        bank journal, quoting the notice number in its reference. The line
        has no partner: the dunning's payment matching finds the notice by
        its number alone."""
        notice.ensure_one()
        journal = self.env["account.journal"].search(
            [("type", "=", "bank"), ("company_id", "=", notice.company_id.id)], limit=1
        )
        if not journal:
            raise UserError(self.env._("The company has no bank journal for the transfer."))
        if amount is None:
            amount = float(notice._dunning_open_amount())
        return (
            self.env["account.bank.statement.line"]
            .with_company(notice.company_id)
            .create(
                {
                    "journal_id": journal.id,
                    "date": fields.Date.context_today(self),
                    "amount": amount,
                    "payment_ref": f"Mahnung {notice.name}, {notice.partner_id.name}",
                }
            )
        )

    @api.model
    def _create_review_company(self, name="Netzwerk Süd GmbH"):
        """A second German ISP (SKR03) whose dunning is reviewed before it is
        sent: the main company's ladder, a few overdue invoices; its next run
        leaves a proposal (Mahnvorschlag) to review and release."""
        main = self.env.ref("base.main_company")
        company = self.env["res.company"].search([("name", "=", name)], limit=1)
        if company:
            return company
        company = self.env["res.company"].create(
            {
                "name": name,
                "street": "Funkturmstraße 5",
                "zip": "80331",
                "city": "München",
                "country_id": self.env.ref("base.de").id,
                "currency_id": self.env.ref("base.EUR").id,
                "vat": "DE129273398",
                "email": "buchhaltung@netzwerk-sued.example",
            }
        )
        self.env.user.company_ids = [Command.link(company.id)]
        self.env["account.chart.template"].try_loading("de_skr03", company, install_demo=False)
        for level in self.env["isp.dunning.level"]._get_ladder(main):
            level.copy({"company_id": company.id, "name": level.name})
        company.dunning_review_required = True
        env = self.with_company(company).env
        journal = self._invoice_journal(company)
        today = fields.Date.context_today(self)
        customers = [
            ("Bergblick Pension", 89.90, 25),
            ("Sabine Huber", 39.95, 20),
            ("Alpen-Werkstatt KG", 249.00, 40),
        ]
        for partner_name, price, days_overdue in customers:
            partner = env["res.partner"].create(
                {
                    "name": partner_name,
                    "email": f"{partner_name.split()[0].lower()}@sued-kunde.example",
                    "lang": "de_DE",
                    "is_company": partner_name.endswith(("KG", "Pension")),
                    "company_id": company.id,
                }
            )
            due = today - timedelta(days=days_overdue)
            move = env["account.move"].create(
                {
                    "move_type": "out_invoice",
                    "partner_id": partner.id,
                    "journal_id": journal.id,
                    "invoice_date": due - timedelta(days=14),
                    "invoice_date_due": due,
                    "invoice_line_ids": [
                        Command.create(
                            {"name": "Glasfaser 250", "price_unit": price, "tax_ids": []}
                        )
                    ],
                }
            )
            move.action_post()
        return company
