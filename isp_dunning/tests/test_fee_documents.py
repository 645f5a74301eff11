"""The booking shortcuts of fee documents give exactly the documents Odoo's
own create + action_post gives, for every configuration they accept, and
anything else goes through Odoo's own machinery."""

import functools
from datetime import date
from unittest.mock import patch

from odoo.fields import Command
from odoo.tests import tagged

from ..services import fee_documents, fee_documents_sql
from .common import DunningCommon

MOVE_FIELDS = (
    "move_type",
    "state",
    "company_id",
    "journal_id",
    "partner_id",
    "commercial_partner_id",
    "currency_id",
    "fiscal_position_id",
    "invoice_date",
    "date",
    "invoice_date_due",
    "invoice_payment_term_id",
    "invoice_cash_rounding_id",
    "invoice_origin",
    "ref",
    "amount_untaxed",
    "amount_tax",
    "amount_total",
    "amount_residual",
    "amount_total_signed",
    "payment_state",
    "dunning_fee_notice_id",
)
LINE_FIELDS = (
    "display_type",
    "account_id",
    "name",
    "product_id",
    "quantity",
    "price_unit",
    "price_subtotal",
    "price_total",
    "discount",
    "debit",
    "credit",
    "balance",
    "amount_currency",
    "currency_id",
    "partner_id",
    "date_maturity",
    "analytic_distribution",
    "tax_ids",
    "tax_line_id",
    "reconciled",
    "amount_residual",
)


def snapshot(move):
    """What a posted document is, without its number and ids of its own."""
    head = {
        name: (move[name].ids if hasattr(move[name], "ids") else move[name]) for name in MOVE_FIELDS
    }

    def value(line, name):
        if name == "name":
            # The receivable line is named after the document's own number.
            return (line.name or "").replace(move.name, "<number>")
        return line[name].ids if hasattr(line[name], "ids") else line[name]

    lines = sorted(
        tuple((name, value(line, name)) for name in LINE_FIELDS) for line in move.line_ids
    )
    return head, lines


# Columns that differ between two documents booked the same way: their own
# ids and the number (checked on its own).
OWN_MOVE_COLUMNS = {"id", "name", "sequence_number", "payment_reference"}
OWN_LINE_COLUMNS = {"id", "move_id", "move_name"}


def rows(env, move):
    """Every column of the move's row and of its journal items' rows."""
    env.flush_all()
    env.cr.execute("SELECT * FROM account_move WHERE id = %s", [move.id])
    columns = [column.name for column in env.cr.description]
    head = dict(zip(columns, env.cr.fetchone(), strict=True))
    env.cr.execute("SELECT * FROM account_move_line WHERE move_id = %s ORDER BY id", [move.id])
    columns = [column.name for column in env.cr.description]
    lines = [dict(zip(columns, row, strict=True)) for row in env.cr.fetchall()]
    return head, lines


def comparable(head, lines):
    """The rows without what is the document's own: ids and number (the
    receivable line is named after the number)."""
    number = head["name"]
    head = {k: v for k, v in head.items() if k not in OWN_MOVE_COLUMNS}
    lines = [
        {
            k: (v.replace(number, "<number>") if k == "name" and isinstance(v, str) else v)
            for k, v in line.items()
            if k not in OWN_LINE_COLUMNS
        }
        for line in lines
    ]
    return head, sorted(lines, key=lambda line: (line["sequence"], line["name"] or ""))


@tagged("post_install", "-at_install")
class TestFeeDocumentShortcuts(DunningCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.journal = cls.company._dunning_journal()
        # A separate account per charge kind, as a German chart has them.
        revenue = cls.company_data["default_account_revenue"]
        cls.fee_account, cls.lump_sum_account, cls.interest_account = (
            revenue.copy({"code": code, "name": name, "tax_ids": [Command.clear()]})
            for code, name in (
                ("702700", "Dunning fees"),
                ("702701", "Lump sums"),
                ("702650", "Default interest"),
            )
        )
        cls.company.write(
            {
                "dunning_fee_account_id": cls.fee_account.id,
                "dunning_lump_sum_account_id": cls.lump_sum_account.id,
                "dunning_interest_account_id": cls.interest_account.id,
            }
        )
        cls.account = cls.fee_account

    def _vals(self, partner, company=None, currency=None, **extra):
        company = company or self.company
        journal = company._dunning_journal()
        accounts = company._dunning_charge_accounts()
        vals = {
            "move_type": "out_invoice",
            "company_id": company.id,
            "journal_id": journal.id,
            "partner_id": partner.id,
            "currency_id": (currency or company.currency_id).id,
            "invoice_date": date(2025, 3, 3),
            "date": date(2025, 3, 3),
            "invoice_payment_term_id": False,
            "invoice_date_due": date(2025, 3, 13),
            "invoice_origin": "MA/2025/00001",
            "ref": "MA/2025/00001",
            "invoice_line_ids": [
                fee_documents._fee_line("Dunning fee", 2.5, None, accounts["fee"]),
                fee_documents._fee_line("Lump sum, invoice RE/1", 40.0, None, accounts["lump_sum"]),
                fee_documents._fee_line(
                    "Default interest, invoice RE/1", 3.37, None, accounts["interest"]
                ),
            ],
        }
        vals.update(extra)
        return vals

    def assertShortcutEqualsOdoo(self, vals, env=None, path="sql"):
        """The document booked by the shortcuts (the INSERTs, or the ORM
        shortcuts for ``path="orm"``) equals the one Odoo books, column for
        column."""
        env = env or self.env
        inserts, posts = [], []
        original_insert, original_post = fee_documents_sql.insert, fee_documents.post_batch

        def spy_insert(env, vals_list):
            inserts.append(len(vals_list))
            return original_insert(env, vals_list)

        def spy_post(moves):
            posts.append(len(moves))
            return original_post(moves)

        partner = env["res.partner"].browse(vals["partner_id"])
        customers = partner | partner.commercial_partner_id
        ranks = {customer: customer.customer_rank for customer in customers}
        with (
            patch.object(fee_documents_sql, "insert", spy_insert),
            patch.object(fee_documents, "post_batch", spy_post),
        ):
            fast = fee_documents.book_documents(env, [vals])
        if path == "sql":
            self.assertEqual((inserts, posts), ([1], []), "inserted below the ORM")
        else:
            self.assertEqual((inserts, posts), ([], [1]), "booked by the ORM shortcuts")
        for customer in customers:
            self.assertEqual(customer.customer_rank, ranks[customer] + 1, customer.name)
        plain = fee_documents.book_documents(env, [vals], shortcuts=False)
        for customer in customers:
            self.assertEqual(customer.customer_rank, ranks[customer] + 2, customer.name)
        self.assertEqual(fast.state, "posted")
        self.assertNotEqual(fast.name, plain.name)
        fast_head, fast_lines = snapshot(fast)
        plain_head, plain_lines = snapshot(plain)
        self.assertEqual(fast_head, plain_head)
        self.assertEqual(fast_lines, plain_lines)
        self.assertEqual(len(fast_lines), 4, "three charges and the receivable")

        # Every column of every row, but the ids and the number.
        fast_rows, plain_rows = rows(env, fast), rows(env, plain)
        fast_head, fast_lines = comparable(*fast_rows)
        plain_head, plain_lines = comparable(*plain_rows)
        self.assertEqual(fast_head, plain_head)
        self.assertEqual(len(fast_lines), len(plain_lines))
        for fast_line, plain_line in zip(fast_lines, plain_lines, strict=True):
            self.assertEqual(fast_line, plain_line)
        # The numbers: consecutive in the journal's sequence, the payment
        # reference is the number, as Odoo sets it.
        self.assertEqual(fast.sequence_prefix, plain.sequence_prefix)
        self.assertEqual(plain.sequence_number, fast.sequence_number + 1)
        for move, (head, lines) in ((fast, fast_rows), (plain, plain_rows)):
            self.assertEqual(head["payment_reference"], move.name)
            self.assertEqual({line["move_name"] for line in lines}, {move.name})
            self.assertTrue(head["name"].endswith(str(head["sequence_number"]).zfill(5)))
        self.assertEqual(fast.message_partner_ids, plain.message_partner_ids, "the same followers")
        self.assertIn(partner, fast.message_partner_ids)
        return fast, plain

    def test_company_currency(self):
        fast, plain = self.assertShortcutEqualsOdoo(self._vals(self.consumer))
        self.assertEqual(fast.amount_total, 45.87)
        self.assertEqual(fast.invoice_date_due, date(2025, 3, 13))
        # In the journal of dunning charges, each charge on its own account.
        self.assertEqual(fast.journal_id, self.journal)
        self.assertEqual((fast.name, plain.name), ("MK/2025/00001", "MK/2025/00002"))
        income = {line.name: line.account_id for line in fast.invoice_line_ids}
        self.assertEqual(
            income,
            {
                "Dunning fee": self.fee_account,
                "Lump sum, invoice RE/1": self.lump_sum_account,
                "Default interest, invoice RE/1": self.interest_account,
            },
        )
        self.assertFalse(fast.invoice_line_ids.tax_ids)

    def test_fiscal_position_of_the_customer(self):
        income_other = self.company_data["default_account_revenue"].copy({"code": "899999"})
        receivable = self.business.with_company(self.company).property_account_receivable_id
        receivable_other = receivable.copy({"code": "121099"})
        position = self.env["account.fiscal.position"].create(
            {
                "name": "EU B2B",
                "company_id": self.company.id,
                "account_ids": [
                    Command.create(
                        {"account_src_id": self.account.id, "account_dest_id": income_other.id}
                    ),
                    Command.create(
                        {"account_src_id": receivable.id, "account_dest_id": receivable_other.id}
                    ),
                ],
            }
        )
        self.business.property_account_position_id = position
        fast, _plain = self.assertShortcutEqualsOdoo(self._vals(self.business))
        self.assertEqual(fast.fiscal_position_id, position)
        # The receivable goes through the position, the given income accounts do not.
        self.assertEqual(
            fast.line_ids.filtered(lambda line: line.display_type == "payment_term").account_id,
            receivable_other,
        )

    def test_fiscal_position_applied_by_country(self):
        country = self.env.ref("base.at")
        position = self.env["account.fiscal.position"].create(
            {
                "name": "Austria",
                "company_id": self.company.id,
                "auto_apply": True,
                "country_id": country.id,
            }
        )
        customer = self.env["res.partner"].create({"name": "Kunde Wien", "country_id": country.id})
        fast, _plain = self.assertShortcutEqualsOdoo(self._vals(customer))
        self.assertEqual(fast.fiscal_position_id, position)
        # A customer of another country gets none.
        other = self.env["res.partner"].create(
            {"name": "Kunde Bern", "country_id": self.env.ref("base.ch").id}
        )
        fast, _plain = self.assertShortcutEqualsOdoo(self._vals(other))
        self.assertFalse(fast.fiscal_position_id)

    def _customers_by_region(self):
        austria = self.env.ref("base.at")
        Position = self.env["account.fiscal.position"]
        vienna = Position.create(
            {
                "name": "Wien",
                "company_id": self.company.id,
                "auto_apply": True,
                "country_id": austria.id,
                "zip_from": "1000",
                "zip_to": "1999",
                "sequence": 1,
            }
        )
        rest = Position.create(
            {
                "name": "Österreich",
                "company_id": self.company.id,
                "auto_apply": True,
                "country_id": austria.id,
                "sequence": 2,
            }
        )
        customers = self.env["res.partner"].create(
            [
                {"name": name, "country_id": austria.id, "zip": zip_code, "vat": vat}
                for name, zip_code, vat in (
                    ("Kunde Wien 1", "1010", False),
                    ("Kunde Wien 2", "1010", False),
                    ("Kunde Graz 1", "8010", False),
                    ("Kunde Graz 2", "8010", False),
                    ("Kunde ohne PLZ", False, False),
                    ("Firma Wien", "1010", "ATU12345675"),
                )
            ]
        )
        return customers, vienna, rest

    def _book_counting_positions(self, customers):
        Position = type(self.env["account.fiscal.position"])
        calls = []
        original = Position._get_fiscal_position

        @functools.wraps(original)  # Odoo's own method, counted
        def counted(positions, partner, delivery=None):
            calls.append(partner.name)
            return original(positions, partner, delivery=delivery)

        with patch.object(Position, "_get_fiscal_position", counted):
            moves = fee_documents.book_documents(self.env, [self._vals(c) for c in customers])
        return moves, calls

    def test_fiscal_positions_of_a_batch_chosen_once_per_region(self):
        """Customers without VAT number of one region (country, state, zip)
        share Odoo's choice of an automatic position; each document has the
        position Odoo's own booking gives it."""
        customers, vienna, rest = self._customers_by_region()
        inserted = fee_documents_sql.insert
        with patch.object(fee_documents_sql, "insert", side_effect=inserted) as spy:
            moves, calls = self._book_counting_positions(customers)
        self.assertEqual(spy.call_count, 1, "inserted below the ORM")
        plain = fee_documents.book_documents(
            self.env, [self._vals(c) for c in customers], shortcuts=False
        )
        self.assertEqual(moves.fiscal_position_id.ids, plain.fiscal_position_id.ids)
        self.assertEqual(
            [move.fiscal_position_id for move in moves],
            [move.fiscal_position_id for move in plain],
        )
        self.assertEqual(
            [move.fiscal_position_id for move in moves], [vienna, vienna, rest, rest, rest, vienna]
        )
        # Vienna, Graz, no zip: once each; the customer with a VAT number alone.
        self.assertEqual(calls, ["Kunde Wien 1", "Kunde Graz 1", "Kunde ohne PLZ", "Firma Wien"])

    def test_a_module_ranking_positions_otherwise_is_asked_per_customer(self):
        customers, vienna, _rest = self._customers_by_region()
        Position = type(self.env["account.fiscal.position"])
        original = Position._get_fpos_ranking_functions

        def ranked_by_name(positions, partner):
            # e.g. a localization ranking by a value of the customer
            return [
                *original(positions, partner),
                ("name", lambda fpos: fpos != vienna or partner.name != "Kunde Wien 2"),
            ]

        with patch.object(Position, "_get_fpos_ranking_functions", ranked_by_name):
            moves, calls = self._book_counting_positions(customers)
        self.assertEqual(calls, customers.mapped("name"))
        self.assertEqual(moves[0].fiscal_position_id, vienna)
        self.assertNotEqual(moves[1].fiscal_position_id, vienna)

    def test_contact_of_a_company_with_salesperson_address_and_product(self):
        admin = self.env.ref("base.user_admin")
        customer = self.env["res.partner"].create(
            {"name": "Netzkunde GmbH", "is_company": True, "user_id": admin.id, "lang": "en_US"}
        )
        contact = self.env["res.partner"].create(
            {"name": "Erika Muster", "parent_id": customer.id, "type": "contact"}
        )
        self.env["res.partner"].create(
            {"name": "Lager", "parent_id": customer.id, "type": "delivery"}
        )
        product = self.env["product.product"].create(
            {"name": "Mahnkosten", "type": "service", "taxes_id": [Command.clear()]}
        )
        vals = self._vals(contact)
        for _command, _id, line in vals["invoice_line_ids"]:
            line["product_id"] = product.id
        fast, _plain = self.assertShortcutEqualsOdoo(vals)
        self.assertEqual(fast.commercial_partner_id, customer)
        self.assertEqual(fast.invoice_user_id, admin)
        self.assertEqual(fast.invoice_partner_display_name, "Netzkunde GmbH, Erika Muster")
        self.assertEqual(fast.invoice_line_ids.product_id, product)
        self.assertEqual(fast.invoice_line_ids.product_uom_id, product.uom_id)
        self.assertEqual(set(fast.line_ids.partner_id), {customer})

    def test_analytic_distribution_model(self):
        plan = self.env["account.analytic.plan"].create({"name": "Dunning"})
        analytic = self.env["account.analytic.account"].create(
            {"name": "Collections", "plan_id": plan.id, "company_id": self.company.id}
        )
        self.env["account.analytic.distribution.model"].create(
            {
                "partner_id": self.consumer.id,
                "analytic_distribution": {str(analytic.id): 100},
                "company_id": self.company.id,
            }
        )
        # Odoo's distribution models are applied by the ORM shortcuts.
        fast, _plain = self.assertShortcutEqualsOdoo(self._vals(self.consumer), path="orm")
        income = fast.line_ids.filtered(lambda line: line.display_type == "product")
        self.assertEqual(income.mapped("analytic_distribution"), [{str(analytic.id): 100}] * 3)

    def test_no_analytic_distribution_model(self):
        self.env["account.analytic.distribution.model"].search([]).unlink()
        fast, _plain = self.assertShortcutEqualsOdoo(self._vals(self.consumer))
        self.assertFalse(any(fast.line_ids.mapped("analytic_distribution")))

    def test_another_company(self):
        other = self.setup_other_company(name="Zweite Netz GmbH")
        company = other["company"]
        partner = self.env["res.partner"].create({"name": "Kunde Zwei", "company_id": False})
        env = self.env(context=dict(self.env.context, allowed_company_ids=[company.id]))
        fast, _plain = self.assertShortcutEqualsOdoo(self._vals(partner, company=company), env=env)
        self.assertEqual(fast.company_id, company)
        self.assertEqual(fast.journal_id.code, "MK", "the new company's own journal")

    def test_foreign_currency_goes_through_odoo(self):
        chf = self.setup_other_currency("CHF", rounding=0.01)
        vals = self._vals(self.consumer, currency=chf)
        self.assertFalse(fee_documents.shortcuts_cover(self.env, vals))
        with (
            patch.object(fee_documents, "post_batch", side_effect=AssertionError("shortcut")),
            patch.object(fee_documents_sql, "insert", side_effect=AssertionError("insert")),
        ):
            move = fee_documents.book_documents(self.env, [vals])
        self.assertEqual(move.state, "posted")
        self.assertEqual(move.currency_id, chf)
        self.assertEqual(move.amount_total, 45.87)

    def test_cash_rounding_goes_through_odoo(self):
        rounding = self.env["account.cash.rounding"].create(
            {
                "name": "0.05",
                "rounding": 0.05,
                "strategy": "add_invoice_line",
                "profit_account_id": self.account.id,
                "loss_account_id": self.account.id,
                "rounding_method": "HALF-UP",
            }
        )
        vals = self._vals(self.consumer, invoice_cash_rounding_id=rounding.id)
        self.assertFalse(fee_documents.shortcuts_cover(self.env, vals))
        with (
            patch.object(fee_documents, "post_batch", side_effect=AssertionError("shortcut")),
            patch.object(fee_documents_sql, "insert", side_effect=AssertionError("insert")),
        ):
            move = fee_documents.book_documents(self.env, [vals])
        self.assertEqual(move.state, "posted")
        self.assertEqual(move.amount_total, 45.85, "rounded to 0.05 by Odoo")

    def test_mixed_batch_keeps_the_order(self):
        chf = self.setup_other_currency("CHF", rounding=0.01)
        vals_list = [
            self._vals(self.consumer),
            self._vals(self.business, currency=chf),
            self._vals(self.business),
        ]
        moves = fee_documents.book_documents(self.env, vals_list)
        self.assertEqual(moves.mapped("partner_id"), self.consumer | self.business)
        self.assertEqual(
            [m.currency_id for m in moves],
            [self.company.currency_id, chf, self.company.currency_id],
        )
        self.assertEqual(set(moves.mapped("state")), {"posted"})

    def test_mixed_batch_numbers_in_posting_order(self):
        vals_list = [
            self._vals(self.consumer, ref="MA/2025/00002"),
            self._vals(self.business, ref="MA/2025/00001"),
            self._vals(self.consumer, ref="MA/2025/00003"),
        ]
        moves = fee_documents.book_documents(self.env, vals_list)
        self.assertEqual(moves.mapped("ref"), ["MA/2025/00002", "MA/2025/00001", "MA/2025/00003"])
        # Numbered as posting numbers a batch: by date, reference, creation.
        self.assertEqual(moves.mapped("name"), ["MK/2025/00002", "MK/2025/00001", "MK/2025/00003"])
        # Odoo continues the sequence after them.
        plain = fee_documents.book_documents(self.env, [self._vals(self.consumer)], shortcuts=False)
        self.assertEqual(plain.name, "MK/2025/00004")
        self.assertFalse(any(moves.mapped("made_sequence_gap")))

    def test_a_stored_field_unknown_to_the_insert_refuses_it(self):
        vals = self._vals(self.consumer)
        self.assertTrue(fee_documents_sql.batch_covered(self.env))
        self.assertTrue(fee_documents_sql.covers(self.env, vals))
        for name in ("MOVE_COLUMNS", "LINE_COLUMNS"):
            known = getattr(fee_documents_sql, name) - {"discount_date", "checked"}
            with patch.object(fee_documents_sql, name, known):
                self.assertFalse(fee_documents_sql.batch_covered(self.env), name)
                with patch.object(
                    fee_documents_sql, "insert", side_effect=AssertionError("insert")
                ):
                    move = fee_documents.book_documents(self.env, [vals])
                self.assertEqual(move.state, "posted", "booked by the ORM")

    def test_a_field_computed_by_the_orm_after_the_insert(self):
        # As Peppol's state in a German database: the insert leaves the
        # column to the ORM, which computes it as after its own INSERT.
        later = {"account.move": frozenset({"invoice_partner_display_name", "amount_residual"})}
        with patch.dict(fee_documents_sql.COMPUTED_AFTER_INSERT, later):
            fast, _plain = self.assertShortcutEqualsOdoo(self._vals(self.consumer))
        self.assertEqual(fast.invoice_partner_display_name, self.consumer.name)
        self.assertEqual(fast.amount_residual, 45.87)

    def test_a_hashed_journal_or_locked_date_refuses_the_insert(self):
        vals = self._vals(self.consumer)
        self.journal.restrict_mode_hash_table = True
        self.assertFalse(fee_documents_sql.covers(self.env, vals))
        self.journal.restrict_mode_hash_table = False
        self.assertTrue(fee_documents_sql.covers(self.env, vals))
        self.company.sudo().fiscalyear_lock_date = date(2025, 3, 31)
        self.assertFalse(fee_documents_sql.covers(self.env, vals))

    def test_inserted_documents_read_back_and_are_paid(self):
        move = fee_documents.book_documents(self.env, [self._vals(self.consumer)])
        self.assertEqual(move.amount_total, 45.87)
        self.assertEqual(move.amount_residual, 45.87)
        self.assertEqual(move.payment_state, "not_paid")
        self.assertEqual(len(move.invoice_line_ids), 3)
        self.assertEqual(len(move.line_ids), 4)
        receivable = move.line_ids.filtered(lambda line: line.display_type == "payment_term")
        self.assertEqual(receivable.account_id.account_type, "asset_receivable")
        self.assertEqual(receivable.amount_residual, 45.87)
        self.assertIn(move, self.open_receivables(self.consumer).move_id)
        self.pay(move, 45.87, date(2025, 3, 10))
        self.assertEqual(move.payment_state, "paid")
        self.assertTrue(receivable.reconciled)
        self.assertTrue(receivable.matching_number)
        self.assertEqual(move.amount_residual, 0.0)

    def _book_after_numbers_taken(self, taken):
        """Book two documents as a parallel worker would that does not see
        the last ``taken`` numbers of the journal: another transaction
        posted them after this one's snapshot. Returns (the documents, the
        batches the ORM shortcuts posted, the last number taken)."""
        Move = self.env["account.move"]
        posted = fee_documents.book_documents(
            self.env, [self._vals(self.consumer) for _i in range(taken)]
        )
        # This transaction's sequence cache knows nothing of them either.
        Move._get_sequence_cache().clear()
        original_format = type(Move)._get_next_sequence_format

        def stale_format(move):
            format_string, format_values = original_format(move)
            return format_string, dict(format_values, seq=format_values["seq"] - taken)

        posts = []
        original_post = fee_documents.post_batch
        with (
            patch.object(type(Move), "_get_next_sequence_format", stale_format),
            patch.object(
                fee_documents, "post_batch", lambda m: posts.append(m) or original_post(m)
            ),
        ):
            moves = fee_documents.book_documents(
                self.env, [self._vals(self.business), self._vals(self.consumer)]
            )
        return moves, posts, max(posted.mapped("sequence_number"))

    def test_numbers_taken_meanwhile_are_skipped(self):
        moves, posts, last = self._book_after_numbers_taken(3)
        self.assertEqual(posts, [], "still inserted below the ORM")
        self.assertEqual(set(moves.mapped("state")), {"posted"})
        self.assertEqual(moves.mapped("sequence_number"), [last + 1, last + 2])
        self.assertEqual(moves.mapped("made_sequence_gap"), [False, False])
        self.assertEqual(moves.partner_id, self.business | self.consumer)
        # The transaction's sequence cache continues after them.
        later = fee_documents.book_documents(self.env, [self._vals(self.consumer)])
        self.assertEqual(later.sequence_number, last + 3)

    def test_numbers_taken_meanwhile_are_passed_in_one_look(self):
        """The first free number is read from the committed documents, not
        found by a probe per number taken: the batch's INSERT, one probe,
        the batch's INSERT again."""
        attempts = []
        original = fee_documents_sql._insert_rows

        def counted(env, model, rows, log_exceptions=True):
            if model._name == "account.move":
                attempts.append(len(rows))
            return original(env, model, rows, log_exceptions)

        with patch.object(fee_documents_sql, "_insert_rows", counted):
            moves, posts, last = self._book_after_numbers_taken(30)
        self.assertEqual(posts, [])
        self.assertEqual(moves.mapped("sequence_number"), [last + 1, last + 2])
        # The 30 documents posted first; the batch, one probe, the batch.
        self.assertEqual(attempts, [30, 2, 1, 2])

    def test_too_many_numbers_taken_leave_the_batch_to_odoo(self):
        with patch.object(fee_documents_sql, "MAX_NUMBERS_TAKEN", 2):
            moves, posts, last = self._book_after_numbers_taken(3)
        self.assertEqual(len(posts), 1, "booked by the ORM shortcuts")
        self.assertEqual(set(moves.mapped("state")), {"posted"})
        self.assertEqual(moves.mapped("sequence_number"), [last + 1, last + 2])
        self.assertEqual(moves.partner_id, self.business | self.consumer)
