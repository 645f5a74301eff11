import base64
import contextlib
import copy
import io
import json
import re
from datetime import date, timedelta

from odoo.addons.isp_dunning.tests.common import DunningCommon
from odoo.tests import tagged
from odoo.tools.translate import code_translations, extract_spreadsheet_terms

PIVOT_VALUE = re.compile(r'PIVOT\.VALUE\((\d+),"([a-z_0-9]+)"')
CHART_TYPES = ("odoo_bar", "odoo_line", "odoo_pie")


def data_sources(data):
    """Every data source of the spreadsheet as (name, model, groupby,
    measures, domain): its pivots and its Odoo charts."""
    sources = []
    for pivot in data["pivots"].values():
        groupby = [
            dim["fieldName"] + (f":{dim['granularity']}" if dim.get("granularity") else "")
            for dim in pivot["rows"] + pivot["columns"]
        ]
        measures = [m["fieldName"] for m in pivot["measures"]]
        sources.append((f"pivot {pivot['id']}", pivot["model"], groupby, measures, pivot["domain"]))
    for sheet in data["sheets"]:
        for figure in sheet["figures"]:
            if figure["tag"] == "chart" and figure["data"]["type"] in CHART_TYPES:
                meta = figure["data"]["metaData"]
                sources.append(
                    (
                        f"chart {figure['id']}",
                        meta["resModel"],
                        meta["groupBy"],
                        [meta["measure"]],
                        figure["data"]["searchParams"]["domain"],
                    )
                )
    for pivot_list in data.get("lists", {}).values():
        sources.append(
            (f"list {pivot_list['id']}", pivot_list["model"], [], pivot_list["columns"], [])
        )
    return sources


@tagged("post_install", "-at_install")
class TestDunningDashboard(DunningCommon):
    """The Dunning spreadsheet dashboard: its record, its data sources on
    isp_dunning's analysis reports, and its figures on small books."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.dashboard = cls.env.ref("isp_dunning_spreadsheet_dashboard.dashboard_dunning")
        cls.data = json.loads(base64.b64decode(cls.dashboard.spreadsheet_binary_data))
        (cls.level_2 | cls.level_3).write({"interest_mode": "fixed", "interest_rate": 5.0})
        cls.level_3.write({"collection_handover": True, "collection_agency_id": cls.agency.id})
        cls.c1, cls.c2, cls.c3 = cls.env["res.partner"].create(
            [
                {"name": "Zahlt Bald", "email": "c1@example.com"},
                {"name": "Zahlt Nie", "email": "c2@example.com"},
                {"name": "Storniert", "email": "c3@example.com"},
            ]
        )

    # ------------------------------------------------------------------
    # helpers
    # ------------------------------------------------------------------
    def check_sources(self, data, subtests=True):
        """Fails unless every data source names an existing model, stored
        fields to group by and aggregatable measures, and read_groups (one
        subtest per source, or the first failure raised)."""
        for name, model_name, groupby, measures, domain in data_sources(data):
            with self.subTest(source=name) if subtests else contextlib.nullcontext():
                self.assertIn(model_name, self.env, f"{name}: no model {model_name}")
                Model = self.env[model_name]
                for spec in groupby:
                    fname = spec.split(":")[0]
                    self.assertIn(fname, Model._fields, f"{name}: no field {model_name}.{fname}")
                    self.assertTrue(Model._fields[fname].store, f"{name}: {fname} not stored")
                for measure in measures:
                    if measure == "__count":
                        continue
                    self.assertIn(
                        measure, Model._fields, f"{name}: no field {model_name}.{measure}"
                    )
                    if not name.startswith("list"):
                        self.assertTrue(
                            Model._fields[measure].aggregator, f"{name}: {measure} not summed"
                        )
                Model.read_group(
                    domain, [m for m in measures if m != "__count"], groupby, lazy=False
                )

    def pivot_groups(self, pivot_id, partners):
        """The pivot's groups for these customers, as its spreadsheet reads
        them: {row key: {measure: value}}."""
        pivot = self.data["pivots"][str(pivot_id)]
        groupby = [
            dim["fieldName"] + (f":{dim['granularity']}" if dim.get("granularity") else "")
            for dim in pivot["rows"] + pivot["columns"]
        ]
        measures = [m["fieldName"] for m in pivot["measures"] if m["fieldName"] != "__count"]
        rows = self.env[pivot["model"]].read_group(
            pivot["domain"] + [["partner_id", "in", partners.ids]], measures, groupby, lazy=False
        )
        result = {}
        for row in rows:
            key = tuple(row[g][0] if isinstance(row[g], tuple) else row[g] for g in groupby)
            result[key[0] if len(key) == 1 else key] = {m: row[m] for m in measures} | {
                "__count": row["__count"]
            }
        return result

    # ------------------------------------------------------------------
    # the record and its JSON
    # ------------------------------------------------------------------
    def test_dashboard_in_the_finance_group(self):
        self.assertEqual(self.dashboard.name, "Dunning")
        self.assertEqual(
            self.dashboard.dashboard_group_id,
            self.env.ref("spreadsheet_dashboard.spreadsheet_dashboard_group_finance"),
        )
        self.assertIn(self.env.ref("isp_dunning.group_dunning_user"), self.dashboard.group_ids)
        self.env["res.lang"]._activate_lang("de_DE")
        self.env["ir.module.module"]._load_module_terms(
            ["isp_dunning_spreadsheet_dashboard"], ["de_DE"], overwrite=True
        )
        self.assertEqual(self.dashboard.with_context(lang="de_DE").name, "Mahnwesen")
        # Every text of the spreadsheet (titles, key figures) reaches the
        # German web client: in de.po and not dropped by a stale .pot.
        terms = {
            term
            for _line, _func, term, _comments in extract_spreadsheet_terms(
                io.StringIO(json.dumps(self.data)), None, None, None
            )
        }
        self.assertIn("Open Amounts by Level and Age", terms)
        german = {
            message["id"]: message["string"]
            for message in code_translations.get_web_translations(
                "isp_dunning_spreadsheet_dashboard", "de_DE"
            )["messages"]
        }
        self.assertEqual(sorted(terms - set(german)), [])
        self.assertEqual(
            german["Open Amounts by Level and Age"], "Offene Beträge nach Mahnstufe und Alter"
        )
        self.assertEqual([s["name"] for s in self.data["sheets"]], ["Dashboard", "Data"])
        # What the dashboard action loads for a dunning user.
        user = self.env["res.users"].create(
            {
                "name": "Dunning Dashboard User",
                "login": "dunning_dashboard_user",
                "groups_id": [
                    (6, 0, [self.env.ref("isp_dunning.group_dunning_user").id]),
                    (4, self.env.ref("base.group_user").id),
                ],
            }
        )
        loaded = self.dashboard.with_user(user).get_readonly_dashboard()
        self.assertEqual(json.loads(json.dumps(loaded["snapshot"]))["pivots"], self.data["pivots"])

    def test_every_data_source_reads_the_reports(self):
        sources = data_sources(self.data)
        models = {model for _name, model, *_rest in sources}
        self.assertEqual(
            models,
            {
                "isp.dunning.open.report",
                "isp.dunning.recovery.report",
                "isp.dunning.handover.report",
                "isp.dunning.charges.report",
                "isp.dunning.dso.report",
            },
        )
        self.assertEqual(len(sources), 9, "seven pivots and two charts")
        self.check_sources(self.data)
        # The key figures name pivots and measures that exist.
        pivots = self.data["pivots"]
        formulas = [
            cell["content"]
            for sheet in self.data["sheets"]
            for cell in sheet["cells"].values()
            if "PIVOT" in cell.get("content", "")
        ]
        self.assertTrue(formulas)
        for formula in formulas:
            for pivot_id, measure in PIVOT_VALUE.findall(formula):
                self.assertIn(pivot_id, pivots, formula)
                self.assertIn(
                    measure, [m["fieldName"] for m in pivots[pivot_id]["measures"]], formula
                )
            for pivot_id in re.findall(r"=PIVOT\((\d+)", formula):
                self.assertIn(pivot_id, pivots, formula)
        # Scorecards read cells of the Data sheet that hold a formula.
        data_cells = self.data["sheets"][1]["cells"]
        for figure in self.data["sheets"][0]["figures"]:
            if figure["data"]["type"] == "scorecard":
                cell = figure["data"]["keyValue"].split("!")[1]
                self.assertTrue(data_cells[cell]["content"].startswith("=PIVOT.VALUE"))

    def test_a_renamed_field_fails_the_check(self):
        for path in (("rows", 0, "fieldName"), ("measures", 1, "fieldName")):
            broken = copy.deepcopy(self.data)
            node = broken["pivots"]["2"]
            node[path[0]][path[1]][path[2]] = "amount_renamed"
            with self.assertRaises(AssertionError):
                self.check_sources(broken, subtests=False)
        broken = copy.deepcopy(self.data)
        broken["sheets"][0]["figures"][-1]["data"]["metaData"]["measure"] = "amount_renamed"
        with self.assertRaises(AssertionError):
            self.check_sources(broken, subtests=False)

    # ------------------------------------------------------------------
    # the figures on small books, computed by hand
    # ------------------------------------------------------------------
    def test_figures_of_the_2025_book(self):
        """Invoices due on 1 January 2025 (no tax), runs on 8 and 22 January
        and 5 February (levels 1, 2, 3 = handover): c1 (365.00) pays 100.00
        on 15 January and the rest with its fee document on 3 February; c2
        (730.00) never pays and is handed over on 5 February."""
        due = date(2025, 1, 1)
        i1 = self.make_invoice(self.c1, 365.0, due)
        self.make_invoice(self.c2, 730.0, due)
        self.dun(date(2025, 1, 8))
        self.pay(i1, 100.0, date(2025, 1, 15))
        self.dun(date(2025, 1, 22))
        self.pay(i1, 265.0, date(2025, 2, 3))
        jan22 = self.notices_of(self.c1).filtered(lambda n: n.date == date(2025, 1, 22))
        self.pay(jan22.fee_move_id, 2.26, date(2025, 2, 3))
        self.dun(date(2025, 2, 5))
        partners = self.c1 | self.c2
        # Recovery by level: 15 Jan is day 7 after 8 Jan, 3 Feb day 26 after
        # 8 Jan and day 12 after 22 Jan.
        recovery = self.pivot_groups(2, partners)
        self.assertEqual(recovery[self.level_1.id]["__count"], 2)
        self.assertEqual(recovery[self.level_1.id]["amount_dunned"], 1095.0)
        self.assertEqual(recovery[self.level_1.id]["recovered_14"], 100.0)
        self.assertEqual(recovery[self.level_1.id]["recovered_30"], 365.0)
        # weighted: 365 / 1095
        self.assertAlmostEqual(recovery[self.level_1.id]["recovery_rate_30"], 33.333, places=3)
        self.assertAlmostEqual(recovery[self.level_2.id]["recovery_rate_14"], 26.633, places=3)
        self.assertEqual(recovery[self.level_3.id]["__count"], 1)
        # Fees and interest by level: 22 Jan: c1 1.50 + 265 x 5 % x 21 / 365
        # = 0.76, paid; c2 1.50 + 730 x 5 % x 21 / 365 = 2.10, open.
        charges = self.pivot_groups(3, partners)
        self.assertAlmostEqual(charges[self.level_2.id]["fee_amount"], 3.0)
        self.assertAlmostEqual(charges[self.level_2.id]["interest_amount"], 2.86)
        self.assertAlmostEqual(charges[self.level_2.id]["amount_booked"], 5.86)
        self.assertAlmostEqual(charges[self.level_2.id]["amount_received"], 2.26)
        self.assertAlmostEqual(charges[self.level_2.id]["amount_open"], 3.6)
        self.assertAlmostEqual(charges[self.level_2.id]["received_share"], 38.567, places=3)
        # Collection: both invoices first dunned in January, c2's handed over.
        handover = self.pivot_groups(5, partners)
        self.assertEqual(handover["January 2025"]["amount_dunned"], 1095.0)
        self.assertEqual(handover["January 2025"]["amount_handed_over"], 730.0)
        self.assertAlmostEqual(handover["January 2025"]["handover_share"], 66.667, places=3)
        # The dashboard reads what the report models hold.
        Recovery = self.env["isp.dunning.recovery.report"]
        rows = Recovery.search([("partner_id", "in", partners.ids)])
        self.assertEqual(sum(g["__count"] for g in recovery.values()), len(rows))
        self.assertAlmostEqual(
            sum(g["recovered_30"] for g in recovery.values()), sum(rows.mapped("recovered_30"))
        )

    def test_open_amounts_and_dso_from_today(self):
        self.env.cr.execute("SELECT CURRENT_DATE")
        today = self.env.cr.fetchone()[0]

        def ago(days):
            return today - timedelta(days=days)

        a, b = self.consumer, self.business
        a1 = self.make_invoice(a, 100.0, ago(45))
        self.make_invoice(a, 50.0, ago(-10), invoice_date=ago(20))
        self.make_invoice(a, 80.0, ago(5))
        b1 = self.make_invoice(b, 200.0, ago(200))
        self.pay(b1, 60.0, ago(199))
        self.dun(ago(38))
        self.dun(ago(24))
        self.assertEqual((a1 | b1).dunning_level_id, self.level_2)
        by_level_and_age = self.pivot_groups(1, a | b)
        self.assertEqual(
            {key: value["amount_open"] for key, value in by_level_and_age.items()},
            {
                (self.level_2.id, "31_60"): 100.0,
                (self.level_2.id, "over_180"): 140.0,
                (False, "not_due"): 50.0,
                (False, "1_30"): 80.0,
            },
        )
        # The key figure "Overdue": 100.00 + 80.00 + 140.00; the invoice not
        # yet due is not overdue.
        self.assertEqual(self.pivot_groups(6, a | b)[()]["amount_open"], 320.0)
        dso = self.pivot_groups(4, a | b)
        self.assertEqual(set(dso), {self.level_2.id})
        self.assertAlmostEqual(
            dso[self.level_2.id]["dso"],
            self.env["isp.dunning.dso.report"].read_group(
                [("partner_id", "in", (a | b).ids), ("level_id", "=", self.level_2.id)],
                ["dso"],
                [],
            )[0]["dso"],
        )
        rows = self.env["isp.dunning.dso.report"].search([("partner_id", "in", (a | b).ids)])
        self.assertAlmostEqual(
            dso[self.level_2.id]["amount_receivable"], sum(rows.mapped("amount_receivable"))
        )
