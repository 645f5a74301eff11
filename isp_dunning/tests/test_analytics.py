from datetime import date, timedelta

from odoo.exceptions import AccessError
from odoo.fields import Command
from odoo.tests import new_test_user, tagged

from ..domain import analytics
from .common import DunningCommon


@tagged("post_install", "-at_install")
class TestDunningAnalytics(DunningCommon):
    """The dunning analysis reports on small dated books, each figure
    against its hand computation."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # A fixed rate keeps the interest independent of the base rates:
        # amount x 5 % x days / 365.
        (cls.level_2 | cls.level_3).write({"interest_mode": "fixed", "interest_rate": 5.0})
        cls.level_3.write({"collection_handover": True, "collection_agency_id": cls.agency.id})
        Partner = cls.env["res.partner"]
        cls.c1, cls.c2, cls.c3 = Partner.create(
            [
                {"name": "Zahlt Bald", "email": "c1@example.com"},
                {"name": "Zahlt Nie", "email": "c2@example.com"},
                {"name": "Storniert", "email": "c3@example.com"},
            ]
        )

    # ------------------------------------------------------------------
    # helpers
    # ------------------------------------------------------------------
    def today(self):
        """The day the views compute with (PostgreSQL's CURRENT_DATE)."""
        self.env.cr.execute("SELECT CURRENT_DATE")
        return self.env.cr.fetchone()[0]

    def groups(self, model, partners, groupby, measures):
        """{group key: {measure: value}} of the report for these customers,
        through read_group as the pivot and graph views call it."""
        rows = self.env[model].read_group(
            [("partner_id", "in", partners.ids)],
            measures,
            groupby,
            lazy=False,
        )
        result = {}
        for row in rows:
            key = tuple(row[g][0] if isinstance(row[g], tuple) else row[g] for g in groupby)
            result[key if len(key) > 1 else key[0]] = {
                m.split(":")[0]: row[m.split(":")[0]] for m in measures
            } | {"count": row["__count"]}
        return result

    def refund(self, partner, amount, when):
        move = self.env["account.move"].create(
            {
                "move_type": "out_refund",
                "partner_id": partner.id,
                "invoice_date": when,
                "invoice_line_ids": [
                    Command.create(
                        {"name": "Gutschrift", "price_unit": amount, "tax_ids": [Command.clear()]}
                    )
                ],
            }
        )
        move.action_post()
        return move

    def notice(self, partner, when):
        return self.notices_of(partner).filtered(lambda n: n.date == when)

    # ------------------------------------------------------------------
    # the 2025 book: notices, recovery, charges, handover
    # ------------------------------------------------------------------
    def book_2025(self):
        """Three consumers, invoices due on 1 January 2025, runs on 8 and
        22 January and 5 February (levels 1, 2, 3 = handover):

        * c1 (365.00) pays 100.00 on 15 Jan and the rest, 265.00, with its
          fee document on 3 Feb: out of dunning before the third run;
        * c2 (730.00) never pays: handed over on 5 Feb;
        * c3 (365.00): its level 2 notice of 22 Jan is cancelled, so 5 Feb
          charges level 2 again; pays 65.00 on 5 Feb (after the run) and
          1.00 of the new fee document on 10 Feb.
        """
        due = date(2025, 1, 1)
        i1 = self.make_invoice(self.c1, 365.0, due)
        i2 = self.make_invoice(self.c2, 730.0, due)
        i3 = self.make_invoice(self.c3, 365.0, due)
        self.dun(date(2025, 1, 8))
        self.pay(i1, 100.0, date(2025, 1, 15))
        self.dun(date(2025, 1, 22))
        self.notice(self.c3, date(2025, 1, 22)).action_cancel()
        self.pay(i1, 265.0, date(2025, 2, 3))
        self.pay(self.notice(self.c1, date(2025, 1, 22)).fee_move_id, 2.26, date(2025, 2, 3))
        self.dun(date(2025, 2, 5))
        self.pay(i3, 65.0, date(2025, 2, 5))
        self.pay(self.notice(self.c3, date(2025, 2, 5)).fee_move_id, 1.0, date(2025, 2, 10))
        return i1, i2, i3

    def test_notices_and_recovery_per_level_and_month(self):
        i1, i2, _i3 = self.book_2025()
        self.assertTrue(i2.dunning_handed_over)
        self.assertIn(i1.payment_state, ("paid", "in_payment"))
        Report = self.env["isp.dunning.recovery.report"]
        rows = Report.search([("partner_id", "in", (self.c1 | self.c2 | self.c3).ids)])
        figures = {
            (row.partner_id, row.date): (row.amount_dunned, row.recovered_14, row.recovered_30)
            for row in rows
        }
        jan8, jan22, feb5 = date(2025, 1, 8), date(2025, 1, 22), date(2025, 2, 5)
        self.assertEqual(
            figures,
            {
                # 15 Jan is day 7 after 8 Jan, 3 Feb day 26
                (self.c1, jan8): (365.0, 100.0, 365.0),
                # 3 Feb is day 12 after 22 Jan
                (self.c1, jan22): (265.0, 265.0, 265.0),
                (self.c2, jan8): (730.0, 0.0, 0.0),
                (self.c2, jan22): (730.0, 0.0, 0.0),
                (self.c2, feb5): (730.0, 0.0, 0.0),
                # 5 Feb is day 28 after 8 Jan; the cancelled notice of 22 Jan
                # is no row; on the notice's own day nothing counts
                (self.c3, jan8): (365.0, 0.0, 65.0),
                (self.c3, feb5): (365.0, 0.0, 0.0),
            },
        )
        partners = self.c1 | self.c2 | self.c3
        measures = ["amount_dunned", "recovered_14", "recovered_30", "recovery_rate_30"]
        by_level = self.groups("isp.dunning.recovery.report", partners, ["level_id"], measures)
        self.assertEqual(by_level[self.level_1.id]["count"], 3)
        self.assertEqual(by_level[self.level_1.id]["amount_dunned"], 1460.0)
        self.assertEqual(by_level[self.level_1.id]["recovered_14"], 100.0)
        self.assertEqual(by_level[self.level_1.id]["recovered_30"], 430.0)
        # weighted: 430 / 1460, not the mean of 100 %, 0 % and 17.8 %
        self.assertAlmostEqual(by_level[self.level_1.id]["recovery_rate_30"], 29.452, places=3)
        self.assertEqual(by_level[self.level_2.id]["count"], 3)
        self.assertEqual(by_level[self.level_2.id]["amount_dunned"], 1360.0)
        self.assertEqual(by_level[self.level_2.id]["recovered_14"], 265.0)
        self.assertAlmostEqual(by_level[self.level_2.id]["recovery_rate_30"], 19.485, places=3)
        self.assertEqual(by_level[self.level_3.id]["count"], 1)
        self.assertEqual(by_level[self.level_3.id]["recovery_rate_30"], 0.0)
        by_month = self.groups(
            "isp.dunning.recovery.report", partners, ["date:month", "level_id"], ["charges"]
        )
        self.assertEqual(
            {key: value["count"] for key, value in by_month.items()},
            {
                ("January 2025", self.level_1.id): 3,
                ("January 2025", self.level_2.id): 2,
                ("February 2025", self.level_2.id): 1,
                ("February 2025", self.level_3.id): 1,
            },
        )
        # level 2 in January: c1 1.50 + 0.76, c2 1.50 + 2.10
        self.assertAlmostEqual(by_month["January 2025", self.level_2.id]["charges"], 5.86)

    def test_recovery_sql_follows_the_window_rule(self):
        self.book_2025()
        rows = self.env["isp.dunning.recovery.report"].search(
            [("partner_id", "in", (self.c1 | self.c2 | self.c3).ids)]
        )
        for row in rows:
            payments = [
                (partial.max_date, partial.debit_amount_currency)
                for move in row.notice_id.move_ids
                for partial in move.line_ids.matched_credit_ids
                if partial.credit_move_id.journal_id.type in analytics.RECEIPT_JOURNAL_TYPES
            ]
            for window, value in zip(
                analytics.RECOVERY_WINDOWS, (row.recovered_14, row.recovered_30), strict=True
            ):
                self.assertAlmostEqual(
                    float(analytics.recovered(row.date, payments, window)),
                    value,
                    msg=f"{row.notice_id.name}, {window} days",
                )
        self.assertEqual(analytics.RECOVERY_WINDOWS, (14, 30), "the report's two columns")

    def test_charges_booked_received_credited_open(self):
        self.book_2025()
        Report = self.env["isp.dunning.charges.report"]
        partners = self.c1 | self.c2 | self.c3
        rows = Report.search([("partner_id", "in", partners.ids)]).sorted(
            lambda r: (r.date, r.partner_id.id)
        )
        self.assertEqual(
            [
                (
                    r.partner_id,
                    r.date,
                    r.fee_amount,
                    r.interest_amount,
                    r.amount_booked,
                    r.amount_received,
                    r.amount_open,
                    r.amount_credited,
                )
                for r in rows
            ],
            [
                # 265.00 x 5 % x 21 / 365 = 0.76; paid in full
                (self.c1, date(2025, 1, 22), 1.5, 0.76, 2.26, 2.26, 0.0, 0.0),
                # 730.00 x 5 % x 21 / 365 = 2.10; open
                (self.c2, date(2025, 1, 22), 1.5, 2.1, 3.6, 0.0, 3.6, 0.0),
                # the cancelled notice: 365.00 x 5 % x 21 / 365 = 1.05, credited
                (self.c3, date(2025, 1, 22), 1.5, 1.05, 2.55, 0.0, 0.0, 2.55),
                # 730.00 x 5 % x 14 / 365 = 1.40
                (self.c2, date(2025, 2, 5), 1.5, 1.4, 2.9, 0.0, 2.9, 0.0),
                # level 2 again: 365.00 x 5 % x 35 / 365 = 1.75; 1.00 paid
                (self.c3, date(2025, 2, 5), 1.5, 1.75, 3.25, 1.0, 2.25, 0.0),
            ],
        )
        measures = [
            "fee_amount",
            "interest_amount",
            "amount_booked",
            "amount_received",
            "amount_open",
            "amount_credited",
            "received_share",
        ]
        total = self.env["isp.dunning.charges.report"].read_group(
            [("partner_id", "in", partners.ids)], measures, [], lazy=False
        )[0]
        self.assertAlmostEqual(total["fee_amount"], 7.5)
        self.assertAlmostEqual(total["interest_amount"], 7.06)
        self.assertAlmostEqual(total["amount_booked"], 14.56)
        self.assertAlmostEqual(total["amount_received"], 3.26)
        self.assertAlmostEqual(total["amount_open"], 8.75)
        self.assertAlmostEqual(total["amount_credited"], 2.55)
        # 3.26 / 14.56
        self.assertAlmostEqual(total["received_share"], 22.390, places=3)

    def test_share_handed_over_to_collection(self):
        i1, i2, i3 = self.book_2025()
        rows = self.env["isp.dunning.handover.report"].search(
            [("partner_id", "in", (self.c1 | self.c2 | self.c3).ids)]
        )
        self.assertEqual(
            {
                (r.move_id, r.date, r.amount_dunned, r.handed_over, r.amount_handed_over)
                for r in rows
            },
            {
                (i1, date(2025, 1, 8), 365.0, False, 0.0),
                (i2, date(2025, 1, 8), 730.0, True, 730.0),
                (i3, date(2025, 1, 8), 365.0, False, 0.0),
            },
            "the fee documents handed over with c2's case are charges, not rows",
        )
        total = self.groups(
            "isp.dunning.handover.report",
            self.c1 | self.c2 | self.c3,
            ["date:month"],
            ["amount_dunned", "amount_handed_over", "handover_share"],
        )["January 2025"]
        self.assertEqual(total["amount_dunned"], 1460.0)
        self.assertEqual(total["amount_handed_over"], 730.0)
        self.assertEqual(total["handover_share"], 50.0)

    # ------------------------------------------------------------------
    # books dated from today: open amounts and DSO
    # ------------------------------------------------------------------
    def test_open_amount_by_level_and_age(self):
        today = self.today()

        def ago(days):
            return today - timedelta(days=days)

        a, b = self.consumer, self.business
        a1 = self.make_invoice(a, 100.0, ago(45))
        a2 = self.make_invoice(a, 50.0, ago(-10), invoice_date=ago(20))
        a3 = self.make_invoice(a, 80.0, ago(5))
        b1 = self.make_invoice(b, 200.0, ago(200))
        self.pay(b1, 60.0, ago(199))
        b2 = self.make_invoice(b, 30.0, ago(70))
        b2.write({"dunning_blocked_until": ago(-10), "dunning_block_reason": "dispute"})
        self.dun(ago(38))  # a1 and b1 reach level 1
        self.dun(ago(24))  # and level 2, with fee documents
        self.assertEqual((a1 | b1).dunning_level_id, self.level_2)
        self.assertEqual(len((a | b).dunning_notice_ids.fee_move_id), 2)
        Report = self.env["isp.dunning.open.report"]
        rows = Report.search([("partner_id", "in", (a | b).ids)])
        self.assertEqual(
            {
                (r.move_id, r.level_id, r.days_overdue, r.age_bucket, r.amount_open, r.paused)
                for r in rows
            },
            {
                (a1, self.level_2, 45, "31_60", 100.0, False),
                (a2, self.Level, -10, "not_due", 50.0, False),
                (a3, self.Level, 5, "1_30", 80.0, False),
                (b1, self.level_2, 200, "over_180", 140.0, False),
                (b2, self.Level, 70, "61_90", 30.0, True),
            },
            "fee documents are not listed",
        )
        by_level = self.groups("isp.dunning.open.report", a | b, ["level_id"], ["amount_open"])
        self.assertEqual(by_level[self.level_2.id]["amount_open"], 240.0)
        self.assertEqual(by_level[False]["amount_open"], 160.0)
        by_age = self.groups("isp.dunning.open.report", a | b, ["age_bucket"], ["amount_open"])
        self.assertEqual(
            {key: value["amount_open"] for key, value in by_age.items()},
            {"not_due": 50.0, "1_30": 80.0, "31_60": 100.0, "61_90": 30.0, "over_180": 140.0},
        )
        # The SQL buckets are the rule's, on every open invoice of the view.
        for row in Report.search([]):
            self.assertEqual(row.days_overdue, (today - row.due_date).days)
            self.assertEqual(row.age_bucket, analytics.age_bucket(row.days_overdue))
        self.assertEqual(
            [key for key, _label in Report._fields["age_bucket"].selection],
            [key for key, _first, _last in analytics.AGE_BUCKETS],
        )

    def test_days_sales_outstanding(self):
        today = self.today()

        def ago(days):
            return today - timedelta(days=days)

        d, e = self.consumer, self.business
        self.make_invoice(d, 300.0, ago(40))
        self.make_invoice(d, 300.0, ago(10))
        self.pay(self.make_invoice(d, 600.0, ago(120)), 600.0, ago(110))
        self.dun(ago(33))  # d's invoice of 40 days ago reaches level 1
        self.make_invoice(e, 300.0, ago(-9), invoice_date=ago(5))
        self.pay(self.make_invoice(e, 600.0, ago(60)), 600.0, ago(50))
        self.pay(self.make_invoice(e, 100.0, ago(89)), 100.0, ago(80))  # first day in
        self.pay(self.make_invoice(e, 100.0, ago(90)), 100.0, ago(80))  # just before
        self.refund(e, 100.0, ago(20))
        start, end = analytics.dso_period(today)
        self.assertEqual((start, end), (ago(89), today))
        rows = self.env["isp.dunning.dso.report"].search([("partner_id", "in", (d | e).ids)])
        self.assertEqual(
            {
                (r.partner_id, r.dunned, r.level_id, r.amount_receivable, r.amount_sales, r.dso)
                for r in rows
            },
            {
                # 600 open over 600 sold: 90 days
                (d, True, self.level_1, 600.0, 600.0, 90.0),
                # 300 - 100 open over 300 + 600 + 100 - 100 sold: 20 days
                (e, False, self.Level, 200.0, 900.0, 20.0),
            },
        )
        by_dunned = self.groups(
            "isp.dunning.dso.report", d | e, ["dunned"], ["amount_receivable", "dso"]
        )
        self.assertEqual(by_dunned[True]["dso"], 90.0)
        self.assertEqual(by_dunned[False]["dso"], 20.0)
        total = self.env["isp.dunning.dso.report"].read_group(
            [("partner_id", "in", (d | e).ids)], ["dso"], [], lazy=False
        )[0]
        # (600 + 200) x 90 / (600 + 900), not the mean of 90 and 20
        self.assertEqual(total["dso"], 48.0)
        self.assertEqual(float(analytics.dso(800, 1500)), 48.0)

    # ------------------------------------------------------------------
    # access and companies
    # ------------------------------------------------------------------
    def test_read_only_per_group_and_company(self):
        today = self.today()
        other = self.setup_other_company(name="Zweite GmbH")["company"]
        here = self.make_invoice(self.consumer, 100.0, today - timedelta(days=40))
        there = (
            self.env["account.move"]
            .with_company(other)
            .create(
                {
                    "move_type": "out_invoice",
                    "partner_id": self.consumer.id,
                    "invoice_date": today - timedelta(days=40),
                    "invoice_line_ids": [
                        Command.create(
                            {"name": "Internet", "price_unit": 70.0, "tax_ids": [Command.clear()]}
                        )
                    ],
                }
            )
        )
        there.action_post()
        self.dun(today - timedelta(days=33))
        own = {"company_id": self.company.id, "company_ids": [Command.set(self.company.ids)]}
        users = {
            "portal": new_test_user(self.env, "an_portal", groups="base.group_portal", **own),
            "internal": new_test_user(self.env, "an_internal", groups="base.group_user", **own),
            "dunning_user": new_test_user(
                self.env,
                "an_dunning_user",
                groups="base.group_user,isp_dunning.group_dunning_user",
                **own,
            ),
            "dunning_manager": new_test_user(
                self.env,
                "an_dunning_manager",
                groups="base.group_user,isp_dunning.group_dunning_manager",
                company_id=self.company.id,
                company_ids=[Command.set((self.company | other).ids)],
            ),
            "billing": new_test_user(
                self.env, "an_billing", groups="account.group_account_invoice", **own
            ),
            "other_accountant": new_test_user(
                self.env,
                "an_other",
                groups="account.group_account_manager",
                company_id=other.id,
                company_ids=[Command.set(other.ids)],
            ),
        }
        # Rows of the consumer each role sees: "here" (this company, dunned at
        # level 1) and "there" (the other company, not dunned).
        one_company = {"open": 1, "recovery": 1, "handover": 1, "charges": 0, "dso": 1}
        visible = {
            "dunning_user": one_company,
            "billing": one_company,
            "dunning_manager": {"open": 2, "recovery": 1, "handover": 1, "charges": 0, "dso": 2},
            "other_accountant": {"open": 1, "recovery": 0, "handover": 0, "charges": 0, "dso": 1},
        }
        for role, user in users.items():
            for report in ("open", "recovery", "handover", "charges", "dso"):
                Model = (
                    self.env[f"isp.dunning.{report}.report"]
                    .with_user(user)
                    .with_context(allowed_company_ids=user.company_ids.ids)
                )
                with self.subTest(role=role, report=report):
                    self.assertEqual(Model.has_access("read"), role in visible)
                    for operation in ("write", "create", "unlink"):
                        self.assertFalse(Model.has_access(operation), operation)
                    if role not in visible:
                        with self.assertRaises(AccessError):
                            Model.search([])
                        continue
                    rows = Model.search([("partner_id", "=", self.consumer.id)])
                    self.assertEqual(len(rows), visible[role][report])
                    self.assertLessEqual(set(rows.company_id.ids), set(user.company_ids.ids))
        Open = self.env["isp.dunning.open.report"]
        domain = [("partner_id", "=", self.consumer.id)]
        self.assertEqual(Open.with_user(users["dunning_user"]).search(domain).move_id, here)
        both = Open.with_user(users["dunning_manager"]).with_context(
            allowed_company_ids=(self.company | other).ids
        )
        self.assertEqual(both.search(domain).move_id, here | there)
        self.assertEqual(Open.with_user(users["other_accountant"]).search(domain).move_id, there)

    def test_menu_and_views_for_dunning_users(self):
        user = new_test_user(
            self.env,
            "an_menu_user",
            groups="base.group_user,isp_dunning.group_dunning_user,account.group_account_invoice",
        )
        outsider = new_test_user(self.env, "an_menu_outsider", groups="base.group_user")
        Menu = self.env["ir.ui.menu"]
        root = self.env.ref("isp_dunning.menu_isp_dunning_analysis")
        self.assertEqual(root.parent_id, self.env.ref("account.menu_finance_reports"))
        self.assertEqual(len(root.child_id), 5)
        self.assertIn(root.id, Menu.with_user(user)._visible_menu_ids())
        self.assertNotIn(root.id, Menu.with_user(outsider)._visible_menu_ids())
        for menu in root.child_id:
            action = menu.action
            with self.subTest(menu=menu.name):
                self.assertIn(menu.id, Menu.with_user(user)._visible_menu_ids())
                views = (
                    self.env[action.res_model]
                    .with_user(user)
                    .get_views(
                        [(False, mode) for mode in action.view_mode.split(",")]
                        + [(action.search_view_id.id, "search")]
                    )
                )
                self.assertEqual(
                    set(views["views"]), {"graph", "pivot", "list", "search"}, action.name
                )
