"""Fee documents: the income account per charge kind, the journal of their
own with its numbering, the refusal of accounts with a default tax, the
defaults of the German charts, the migration of the old settings and the
document in the customer's portal."""

import re
from datetime import date

from odoo.exceptions import UserError, ValidationError
from odoo.fields import Command
from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tools import mute_logger

from ..services import fee_documents
from .common import D, DunningCommon

RUN_LOGGER = "odoo.addons.isp_dunning.models.isp_dunning_run"


@tagged("post_install", "-at_install")
class TestChargeAccounts(DunningCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # Revenue with a default sales tax, like SKR03 8400 (19 % USt).
        cls.tax = cls.company_data["default_tax_sale"]
        cls.revenue = cls.company_data["default_account_revenue"].copy(
            {"code": "8400", "name": "Erlöse 19 % USt", "tax_ids": [Command.set(cls.tax.ids)]}
        )
        cls.fee_account, cls.lump_sum_account, cls.interest_account = (
            cls._untaxed_account(code, name)
            for code, name in (
                ("2700", "Andere sonstige Erträge"),
                ("2701", "Pauschalen § 288 (5) BGB"),
                ("2650", "Sonstige Zinsen und ähnliche Erträge"),
            )
        )

    @classmethod
    def _untaxed_account(cls, code, name, account_type="income_other"):
        return cls.env["account.account"].create(
            {
                "code": code,
                "name": name,
                "account_type": account_type,
                "company_ids": [Command.set(cls.company.ids)],
            }
        )

    def _use_accounts(self):
        self.company.write(
            {
                "dunning_fee_account_id": self.fee_account.id,
                "dunning_lump_sum_account_id": self.lump_sum_account.id,
                "dunning_interest_account_id": self.interest_account.id,
            }
        )

    # ------------------------------------------------------------------
    # Set up with the chart
    # ------------------------------------------------------------------
    def test_company_gets_journal_and_accounts_with_its_chart(self):
        for company in (self.company, self.setup_other_company(name="Neu Netz GmbH")["company"]):
            with self.subTest(company=company.name):
                journal = company.dunning_journal_id
                self.assertEqual((journal.type, journal.code), ("sale", "MK"))
                self.assertEqual(journal.company_id, company)
                self.assertEqual(journal.name, "Dunning Charges")
                accounts = company._dunning_charge_accounts()
                self.assertEqual(set(accounts), {"fee", "lump_sum", "interest"})
                for account in accounts.values():
                    # The generic chart's "Other Income", without taxes.
                    self.assertEqual(account.account_type, "income_other")
                    self.assertFalse(account.tax_ids)
                    self.assertEqual(account.with_company(company).code, "450000")
                self.assertEqual(journal.default_account_id, accounts["fee"])
                invoice_journal = self.env["account.journal"].search(
                    [("type", "=", "sale"), ("company_id", "=", company.id)], limit=1
                )
                self.assertNotEqual(invoice_journal, journal, "invoices keep their journal")

    def test_journal_named_in_german(self):
        self.env["res.lang"]._activate_lang("de_DE")
        journal = self.company._dunning_create_journal(self.fee_account)
        self.assertEqual(journal.code, "MKO", "MK is taken by the first one")
        # the German name comes from the module's translations
        self.assertEqual(journal.with_context(lang="de_DE").name, "Mahnkosten")
        self.assertEqual(journal.with_context(lang="en_US").name, "Dunning Charges")

    def test_setup_keeps_what_is_set(self):
        self._use_accounts()
        journal = self.company.dunning_journal_id
        self.company._dunning_setup_accounting()
        self.assertEqual(self.company.dunning_journal_id, journal)
        self.assertEqual(self.company.dunning_interest_account_id, self.interest_account)
        self.assertEqual(
            self.env["account.journal"].search_count(
                [("company_id", "=", self.company.id), ("code", "=like", "MK%")]
            ),
            1,
        )

    # ------------------------------------------------------------------
    # Defaults of the German charts
    # ------------------------------------------------------------------
    def test_german_chart_defaults(self):
        # l10n_de is not installed in the test database: the accounts of
        # SKR03 and SKR04 are made here with their codes.
        skr04_fees = self._untaxed_account("4830", "Sonstige betriebliche Erträge", "income")
        skr04_interest = self._untaxed_account("7100", "Sonstige Zinsen und ähnliche Erträge")
        skr03 = self.company._dunning_default_accounts("de_skr03")
        self.assertEqual(
            skr03,
            {
                "fee": self.fee_account,
                "lump_sum": self.fee_account,
                "interest": self.interest_account,
            },
        )
        skr04 = self.company._dunning_default_accounts("de_skr04")
        self.assertEqual(
            skr04, {"fee": skr04_fees, "lump_sum": skr04_fees, "interest": skr04_interest}
        )
        # A 2650 with a default tax is not taken: the untaxed fallback is.
        self.interest_account.tax_ids = self.tax
        interest = self.company._dunning_default_accounts("de_skr03")["interest"]
        self.assertNotEqual(interest, self.interest_account)
        self.assertFalse(interest.tax_ids)
        self.assertEqual(interest.account_type, "income_other")

    def test_setup_with_german_chart_uses_its_accounts(self):
        self.company.write(
            {
                "dunning_fee_account_id": False,
                "dunning_lump_sum_account_id": False,
                "dunning_interest_account_id": False,
            }
        )
        self.company._dunning_setup_accounting("de_skr03")
        self.assertEqual(self.company.dunning_fee_account_id, self.fee_account)
        self.assertEqual(self.company.dunning_lump_sum_account_id, self.fee_account)
        self.assertEqual(self.company.dunning_interest_account_id, self.interest_account)

    # ------------------------------------------------------------------
    # Refusals
    # ------------------------------------------------------------------
    def test_account_with_default_tax_refused(self):
        taxed = self.revenue
        tax = self.tax
        for field, charge in (
            ("dunning_fee_account_id", "dunning fees"),
            ("dunning_lump_sum_account_id", "lump sums"),
            ("dunning_interest_account_id", "default interest"),
        ):
            with (
                self.subTest(field=field),
                self.assertRaisesRegex(
                    ValidationError,
                    f"{re.escape(taxed.display_name)} carries the default tax "
                    f"{re.escape(tax.name)}, but {charge} are booked without VAT. Choose an "
                    f"income account without default taxes for {charge}",
                ),
                self.env.cr.savepoint(),
            ):
                self.env["res.config.settings"].create({field: taxed.id}).execute()
                self.env.flush_all()

    def test_run_refuses_an_account_that_got_a_tax(self):
        self._use_accounts()
        self.interest_account.tax_ids = self.tax
        self.make_invoice(self.consumer, 100.0, D(2025, 1, 1))
        with (
            mute_logger(RUN_LOGGER),
            self.assertRaisesRegex(UserError, "carries the default tax .* default interest"),
            self.env.cr.savepoint(),
        ):
            self.dun(D(2025, 1, 8))
        self.assertFalse(self.notices_of(self.consumer))

    def test_run_without_account(self):
        self.company.dunning_lump_sum_account_id = False
        self.make_invoice(self.consumer, 100.0, D(2025, 1, 1))
        with (
            mute_logger(RUN_LOGGER),
            self.assertRaisesRegex(
                UserError,
                f"{re.escape(self.company.name)} has no income account for lump sums; choose",
            ),
            self.env.cr.savepoint(),
        ):
            self.dun(D(2025, 1, 8))
        self.assertFalse(self.notices_of(self.consumer))

    def test_run_without_journal(self):
        self.company.dunning_journal_id = False
        self.make_invoice(self.consumer, 100.0, D(2025, 1, 1))
        with (
            mute_logger(RUN_LOGGER),
            self.assertRaisesRegex(UserError, "has no journal for dunning charges"),
            self.env.cr.savepoint(),
        ):
            self.dun(D(2025, 1, 8))

    # ------------------------------------------------------------------
    # Real fee documents
    # ------------------------------------------------------------------
    def test_each_charge_on_its_account_in_the_dunning_journal(self):
        self._use_accounts()
        invoice = self.make_invoice(self.business, 1000.0, D(2025, 1, 1))
        for when in (D(2025, 1, 8), D(2025, 1, 22), D(2025, 2, 5)):
            self.dun(when)
        self.assertEqual(invoice.dunning_level_id, self.level_3)
        notices = self.notices_of(self.business)
        fee_moves = self.env["account.move"].search(
            [("dunning_fee_notice_id", "in", notices.ids)], order="id"
        )
        self.assertEqual(len(fee_moves), 2, "the second and third level charge")
        self.assertEqual(set(fee_moves.mapped("state")), {"posted"})
        journal = self.company.dunning_journal_id
        self.assertEqual(fee_moves.journal_id, journal)
        self.assertEqual(fee_moves.mapped("name"), ["MK/2025/00001", "MK/2025/00002"])
        expected = {
            "Dunning fee": self.fee_account,
            "Lump sum for late payment": self.lump_sum_account,
            "Default interest": self.interest_account,
        }
        kinds = set()
        for line in fee_moves.invoice_line_ids:
            kind = next(prefix for prefix in expected if line.name.startswith(prefix))
            kinds.add(kind)
            self.assertEqual(line.account_id, expected[kind], line.name)
            self.assertFalse(line.tax_ids)
        self.assertEqual(kinds, set(expected), "fees, a lump sum and interest were charged")
        self.assertFalse(fee_moves.line_ids.filtered("tax_line_id"), "no VAT")
        # The customer invoices keep their numbering without gaps.
        later = self.make_invoice(self.business, 10.0, D(2025, 2, 6))
        self.assertEqual(later.journal_id, invoice.journal_id)
        prefix, number = invoice.name.rsplit("/", 1)
        self.assertEqual(later.name, f"{prefix}/{int(number) + 1:0{len(number)}d}")

    # ------------------------------------------------------------------
    # Migration of 18.0.1.2.0
    # ------------------------------------------------------------------
    def _prepare_old_settings(self, journal):
        """A company as version 18.0.1.1.0 left it: no account per kind, the
        old journal setting; the journal the chart load made is removed."""
        made = self.company.dunning_journal_id
        self.company.write(
            {
                "dunning_journal_id": journal.id if journal else False,
                "dunning_fee_account_id": False,
                "dunning_lump_sum_account_id": False,
                "dunning_interest_account_id": False,
            }
        )
        if made != journal:
            made.unlink()

    def test_migration_replaces_taxed_account_and_shared_journal(self):
        invoice_journal = self.company_data["default_journal_sale"]
        invoice = self.make_invoice(self.consumer, 100.0, D(2025, 1, 1))
        self.assertEqual(invoice.journal_id, invoice_journal)
        before = (invoice.name, invoice.amount_total, invoice.line_ids.account_id)
        self._prepare_old_settings(invoice_journal)
        # The old default: revenue with 19 % VAT, like SKR03 8400.
        self.company._dunning_migrate_settings(self.revenue)
        journal = self.company.dunning_journal_id
        self.assertNotEqual(journal, invoice_journal)
        self.assertEqual((journal.type, journal.code), ("sale", "MK"))
        for account in self.company._dunning_charge_accounts().values():
            self.assertTrue(account)
            self.assertNotEqual(account, self.revenue)
            self.assertFalse(account.tax_ids)
        self.assertEqual((invoice.name, invoice.amount_total, invoice.line_ids.account_id), before)
        self.assertEqual(invoice.state, "posted")

    def test_migration_keeps_an_untaxed_account_and_a_journal_of_fee_documents(self):
        old_journal = self.env["account.journal"].create(
            {"name": "Mahngebühren", "code": "MAHN", "type": "sale", "company_id": self.company.id}
        )
        self.company.dunning_journal_id = old_journal
        self._use_accounts()
        self.make_invoice(self.consumer, 100.0, D(2025, 1, 1))
        for when in (D(2025, 1, 8), D(2025, 1, 22)):
            self.dun(when)
        fee_move = self.env["account.move"].search(
            [("dunning_fee_notice_id", "in", self.notices_of(self.consumer).ids)]
        )
        self.assertEqual(fee_move.journal_id, old_journal)
        self._prepare_old_settings(old_journal)
        self.company._dunning_migrate_settings(self.fee_account)
        self.assertEqual(self.company.dunning_journal_id, old_journal)
        self.assertEqual(
            self.company._dunning_charge_accounts(),
            dict.fromkeys(("fee", "lump_sum", "interest"), self.fee_account),
        )
        self.assertEqual(fee_move.state, "posted")

    def test_migration_without_old_settings(self):
        self._prepare_old_settings(None)
        self.company._dunning_migrate_settings(self.env["account.account"])
        self.assertEqual(self.company.dunning_journal_id.code, "MK")
        self.assertTrue(all(self.company._dunning_charge_accounts().values()))


@tagged("post_install", "-at_install")
class TestFeeDocumentInPortal(HttpCase):
    """A fee document is an invoice of the customer's portal, open to pay."""

    def test_fee_document_listed_in_my_invoices(self):
        company = self.env.ref("base.main_company")
        self.assertTrue(company.dunning_journal_id, "set up at the installation")
        customer = self.env["res.partner"].create(
            {"name": "Portal Kunde GmbH", "is_company": True, "email": "pk@example.com"}
        )
        user = new_test_user(
            self.env,
            "portal.kunde",
            groups="base.group_portal",
            partner_id=customer.id,
            password="portal.kunde.secret",
            company_id=company.id,
        )
        accounts = company._dunning_charge_accounts()
        move = fee_documents.book_documents(
            self.env,
            [
                {
                    "move_type": "out_invoice",
                    "company_id": company.id,
                    "journal_id": company.dunning_journal_id.id,
                    "partner_id": customer.id,
                    "currency_id": company.currency_id.id,
                    "invoice_date": date(2025, 3, 3),
                    "date": date(2025, 3, 3),
                    "invoice_payment_term_id": False,
                    "invoice_date_due": date(2025, 3, 13),
                    "invoice_line_ids": [
                        fee_documents._fee_line("Dunning fee", 2.5, None, accounts["fee"])
                    ],
                }
            ],
        )
        self.assertEqual(move.state, "posted")
        self.assertTrue(move.name.startswith(f"{company.dunning_journal_id.code}/2025/"))
        self.authenticate(user.login, "portal.kunde.secret")
        response = self.url_open("/my/invoices")
        self.assertEqual(response.status_code, 200)
        self.assertIn(move.name, response.text)
        response = self.url_open(f"/my/invoices/{move.id}")
        self.assertEqual(response.status_code, 200)
        self.assertIn(move.name, response.text)
        self.assertEqual(move.payment_state, "not_paid")
        self.assertEqual(move.amount_residual, 2.5)
