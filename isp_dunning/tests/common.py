import logging
import unittest
from datetime import date, timedelta

from odoo.addons.account.tests.common import AccountTestInvoicingCommon
from odoo.fields import Command, Date
from odoo.sql_db import db_connect
from odoo.tests import HttpCase

_logger = logging.getLogger(__name__)

# Odoo gives Chromium ten seconds to open its debugging port; on a loaded
# machine a start can take longer, and Odoo then skips the tour.
BROWSER_STARTS = 3


def make_credit_note(env, partner, amount, when):
    """A posted credit note of ``amount`` (no tax), not reconciled."""
    move = env["account.move"].create(
        {
            "move_type": "out_refund",
            "partner_id": partner.id,
            "invoice_date": when,
            "invoice_line_ids": [
                Command.create(
                    {"name": "Goodwill", "price_unit": amount, "tax_ids": [Command.clear()]}
                )
            ],
        }
    )
    move.action_post()
    return move


def make_unapplied_payment(env, partner, amount, when):
    """A customer payment received on the company's bank journal and not
    allocated to any invoice; returns its journal entry."""
    journal = env["account.journal"].search(
        [("type", "=", "bank"), ("company_id", "=", env.company.id)], limit=1
    )
    payment = env["account.payment"].create(
        {
            "payment_type": "inbound",
            "partner_type": "customer",
            "partner_id": partner.id,
            "amount": amount,
            "date": when,
            "journal_id": journal.id,
        }
    )
    payment.action_post()
    return payment.move_id


def open_receivables(env, partner):
    """The customer's open posted receivable lines."""
    env.flush_all()
    return env["account.move.line"].search(
        [
            ("partner_id", "=", partner.id),
            ("account_id.account_type", "=", "asset_receivable"),
            ("parent_state", "=", "posted"),
            ("reconciled", "=", False),
        ]
    )


class DunningCommon(AccountTestInvoicingCommon):
    """A company with a four-step ladder and helpers for dated scenarios."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # Letters and summaries are real PDFs: wkhtmltopdf loads the report
        # styles from Odoo's HTTP server. While the test runner holds the
        # registry lock, requests get through only in test mode (as in
        # HttpCase), on this test's transaction. Tests that need a session of
        # their own open one with ``independent_cursor``.
        cls.registry.enter_test_mode(cls.cr)
        cls.addClassCleanup(cls.registry.leave_test_mode)
        cls.company = cls.env.company
        cls.company.write({"dunning_tolerance": 1.0, "dunning_payment_days": 10})
        cls.Level = cls.env["isp.dunning.level"]
        cls.Run = cls.env["isp.dunning.run"]
        cls.Notice = cls.env["isp.dunning.notice"]
        cls.agency = cls.env["res.partner"].create(
            {"name": "Inkasso Test GmbH", "email": "cases@inkasso.example", "is_company": True}
        )
        cls.level_1, cls.level_2, cls.level_3, cls.level_4 = cls.Level.create(
            [
                cls._level_vals("Reminder", 10, 7, "due_date"),
                cls._level_vals(
                    "First notice",
                    20,
                    14,
                    "previous_level",
                    fee_amount=1.5,
                    interest_mode="statutory",
                ),
                cls._level_vals(
                    "Second notice",
                    30,
                    14,
                    "previous_level",
                    fee_amount=1.5,
                    interest_mode="statutory",
                    b2b_flat_fee=True,
                    announce_portal_block=True,
                ),
                cls._level_vals(
                    "Final notice",
                    40,
                    14,
                    "previous_level",
                    fee_amount=1.5,
                    interest_mode="statutory",
                    b2b_flat_fee=True,
                    block_portal=True,
                ),
            ]
        )
        cls.consumer = cls.env["res.partner"].create(
            {"name": "Max Verbraucher", "email": "max@example.com"}
        )
        cls.business = cls.env["res.partner"].create(
            {"name": "Firma GmbH", "is_company": True, "email": "ap@firma.example"}
        )

    @classmethod
    def _level_vals(cls, name, sequence, delay, basis, **extra):
        vals = {
            "name": name,
            "sequence": sequence,
            "delay_days": delay,
            "delay_basis": basis,
            "company_id": cls.env.company.id,
            "subject_template": "{{ notice.level_name }} {{ company.name }}",
            "body_text_template": "Dear {{ partner.name }}, you owe "
            "{{ notice.amount_total_due|money(notice.currency_symbol) }}.",
            "body_html_template": "<p>Dear {{ partner.name }}</p>",
        }
        vals.update(extra)
        return vals

    def make_invoice(self, partner, amount, due, invoice_date=None, term=None):
        """A posted invoice of ``amount`` (no tax) due on ``due``."""
        move = self.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": partner.id,
                "invoice_date": invoice_date or due,
                "invoice_payment_term_id": term.id if term else False,
                "invoice_date_due": due if not term else False,
                "invoice_line_ids": [
                    Command.create(
                        {
                            "name": "Internet",
                            "quantity": 1,
                            "price_unit": amount,
                            "tax_ids": [Command.clear()],
                        }
                    )
                ],
            }
        )
        move.action_post()
        return move

    def pay(self, move, amount, when):
        return (
            self.env["account.payment.register"]
            .with_context(active_model="account.move", active_ids=move.ids)
            .create({"amount": amount, "payment_date": when})
            ._create_payments()
        )

    def credit_note(self, partner, amount, when):
        return make_credit_note(self.env, partner, amount, when)

    def unapplied_payment(self, partner, amount, when):
        return make_unapplied_payment(self.env, partner, amount, when)

    def open_receivables(self, partner):
        return open_receivables(self.env, partner)

    def independent_cursor(self):
        """A cursor on a connection of its own (another session), unlike the
        registry's cursors in test mode, which share the test's."""
        return db_connect(self.env.cr.dbname).cursor()

    def dun(self, when, **kwargs):
        return self.Run.run_dunning(date=when, **kwargs)

    def notices_of(self, partner):
        return self.Notice.search(
            [("partner_id", "=", partner.id), ("state", "!=", "cancelled")], order="id"
        )


D = date


class EuroCompanyMixin:
    """For a test class of DunningCommon: its company keeps its books in EUR
    (a GiroCode, an EPC QR code, is for euros only)."""

    @classmethod
    def _create_company(cls, **create_values):
        euro = cls.env.ref("base.EUR")
        euro.active = True
        create_values.setdefault("currency_id", euro.id)
        return super()._create_company(**create_values)


class TourCase(HttpCase):
    """Browser tours as ``admin`` in the main company, on its own data."""

    def setUp(self):
        super().setUp()
        self.company = self.env.ref("base.main_company")

    def make_overdue_invoice(self, partner, days_overdue, amount=1000.0):
        """A posted invoice of ``amount`` (no tax) in the company's sales
        journal, dated ten days before it fell due ``days_overdue`` days
        ago."""
        journal = self.env["account.journal"].search(
            [("type", "=", "sale"), ("company_id", "=", self.company.id)], limit=1
        )
        due = Date.today() - timedelta(days=days_overdue)
        invoice = (
            self.env["account.move"]
            .with_company(self.company)
            .create(
                {
                    "move_type": "out_invoice",
                    "partner_id": partner.id,
                    "journal_id": journal.id,
                    "invoice_date": due - timedelta(days=10),
                    "invoice_date_due": due,
                    "invoice_line_ids": [
                        Command.create(
                            {"name": "Internet", "price_unit": amount, "tax_ids": [Command.clear()]}
                        )
                    ],
                }
            )
        )
        invoice.action_post()
        return invoice

    def run_tour(self, url, tour):
        """``start_tour`` as ``admin``, with Chromium started again when it
        was too slow to open its debugging port."""
        for attempt in range(1, BROWSER_STARTS + 1):
            try:
                self.start_tour(url, tour, login="admin")
                return
            except unittest.SkipTest as skip:
                if "devtools port" not in str(skip) or attempt == BROWSER_STARTS:
                    raise
                _logger.info("Chromium did not start in time (%s), starting it again", attempt)
