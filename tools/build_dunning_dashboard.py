"""Writes the Dunning spreadsheet dashboard of isp_dunning_spreadsheet_dashboard.

    python3 tools/build_dunning_dashboard.py

The dashboard (``data/files/dunning_dashboard.json``, o-spreadsheet data as
Odoo 18's own dashboards ship it) is made here from a short description, so
that its pivots, charts and key figures stay readable and reviewable: every
data source names one of isp_dunning's analysis reports (``report/``) and
fields of it; the addon's tests read_group each of them. Texts are ``_t``
formulas and chart titles, which Odoo exports for translation.
"""

import json
from pathlib import Path

OUT = (
    Path(__file__).resolve().parents[1]
    / "isp_dunning_spreadsheet_dashboard"
    / "data"
    / "files"
    / "dunning_dashboard.json"
)
DASHBOARD_SHEET = "b6a1c9e0-4d1a-4f4e-9a51-dunning00001"
DATA_SHEET = "b6a1c9e0-4d1a-4f4e-9a51-dunning00002"
ROW_HEIGHT = 23
COL_WIDTHS = [230, 140, 140, 140, 140, 140, 140, 140]

OPEN = "isp.dunning.open.report"
RECOVERY = "isp.dunning.recovery.report"
HANDOVER = "isp.dunning.handover.report"
CHARGES = "isp.dunning.charges.report"
DSO = "isp.dunning.dso.report"


def pivot(pid, model, name, rows, measures, columns=(), domain=()):
    return {
        "type": "ODOO",
        "id": pid,
        "formulaId": pid,
        "model": model,
        "name": name,
        "domain": list(domain),
        "context": {},
        "rows": [dict(r) for r in rows],
        "columns": [dict(c) for c in columns],
        "measures": [{"id": m, "fieldName": m} for m in measures],
        "fieldMatching": {},
    }


PIVOTS = {
    "1": pivot(
        "1",
        OPEN,
        "Open Amounts",
        rows=[{"fieldName": "level_id"}],
        columns=[{"fieldName": "age_bucket"}],
        measures=["amount_open"],
    ),
    "2": pivot(
        "2",
        RECOVERY,
        "Recovery by Level",
        rows=[{"fieldName": "level_id"}],
        measures=[
            "__count",
            "amount_dunned",
            "recovered_14",
            "recovered_30",
            "recovery_rate_14",
            "recovery_rate_30",
        ],
    ),
    "3": pivot(
        "3",
        CHARGES,
        "Fees and Interest",
        rows=[{"fieldName": "level_id"}],
        measures=[
            "fee_amount",
            "lump_sum_amount",
            "interest_amount",
            "amount_booked",
            "amount_received",
            "amount_open",
            "received_share",
        ],
    ),
    "4": pivot(
        "4",
        DSO,
        "DSO by Level",
        rows=[{"fieldName": "level_id"}],
        measures=["amount_receivable", "amount_sales", "dso"],
    ),
    "5": pivot(
        "5",
        HANDOVER,
        "Collection Handover",
        rows=[{"fieldName": "date", "granularity": "month", "order": "desc"}],
        measures=["__count", "amount_dunned", "amount_handed_over", "handover_share"],
    ),
    # Key figures (no grouping): the overdue amount and the DSO of the
    # dunned customers.
    "6": pivot(
        "6",
        OPEN,
        "Overdue Amount",
        rows=[],
        measures=["amount_open"],
        domain=[["days_overdue", ">", 0]],
    ),
    "7": pivot(
        "7",
        DSO,
        "DSO Dunned",
        rows=[],
        measures=["dso"],
        domain=[["dunned", "=", True]],
    ),
}

# The key figures: (title, formula on the Data sheet, number format).
KPIS = [
    ("Open Receivables", '=PIVOT.VALUE(1,"amount_open")', "#,##0.00"),
    ("Overdue", '=PIVOT.VALUE(6,"amount_open")', "#,##0.00"),
    ("Notices", '=PIVOT.VALUE(2,"__count")', "0"),
    ("Recovered in 30 Days", '=PIVOT.VALUE(2,"recovery_rate_30")/100', "0.0%"),
    ("Handed Over to Collection", '=PIVOT.VALUE(5,"handover_share")/100', "0.0%"),
    ("DSO of Dunned Customers", '=PIVOT.VALUE(7,"dso")', "0.0"),
]
KPI_DESCRIPTIONS = [
    "all open invoices",
    "past their due date",
    "sent or printed",
    "of the dunned amount",
    "of the dunned amount",
    "days",
]


def odoo_bar(fid, x, y, width, height, title, model, group_by, measure, stacked):
    return {
        "id": fid,
        "x": x,
        "y": y,
        "width": width,
        "height": height,
        "tag": "chart",
        "data": {
            "title": {"text": title, "bold": True, "color": "#434343"},
            "background": "#FFFFFF",
            "legendPosition": "top" if len(group_by) > 1 else "none",
            "metaData": {
                "groupBy": group_by,
                "measure": measure,
                "order": None,
                "resModel": model,
                "mode": "bar",
            },
            "searchParams": {
                "comparison": None,
                "context": {},
                "domain": [],
                "groupBy": group_by,
                "orderBy": [],
            },
            "type": "odoo_bar",
            "verticalAxisPosition": "left",
            "stacked": stacked,
            "fieldMatching": {},
        },
    }


def scorecard(fid, x, y, title, key_cell, description):
    return {
        "id": fid,
        "x": x,
        "y": y,
        "width": 198,
        "height": 110,
        "tag": "chart",
        "data": {
            "type": "scorecard",
            "title": {"text": title, "color": "#434343", "bold": True},
            "background": "#EFF6FF",
            "keyValue": key_cell,
            "baselineMode": "text",
            "baselineDescr": description,
            "baselineColorUp": "#00A04A",
            "baselineColorDown": "#DC6965",
            "humanize": False,
        },
    }


def build():
    cells, styles, rows = {}, {}, {}
    figures = []
    # Rows 1-6: the key figures (scorecards over 6 rows of 23 px).
    kpi_rows = 6
    for index, (title, _formula, _fmt) in enumerate(KPIS):
        figures.append(
            scorecard(
                f"dunning-kpi-{index + 1}",
                index * 208,
                8,
                title,
                f"Data!B{index + 2}",
                KPI_DESCRIPTIONS[index],
            )
        )
    row = kpi_rows + 1

    def title(text, link_row):
        cells[f"A{link_row}"] = {"content": f'=_t("{text}")'}
        styles[f"A{link_row}"] = 1
        rows[str(link_row - 1)] = {"size": 40}

    def spilled_pivot(pid, first_row, reserved):
        cells[f"A{first_row}"] = {"content": f"=PIVOT({pid},{reserved - 3})"}
        return first_row + reserved

    # Open amounts by level and age: a table and, beside the charts, a bar chart.
    title("Open Amounts by Level and Age", row)
    row = spilled_pivot(1, row + 1, 11)
    # Two charts side by side: notices per month and level, open amount by age.
    title("Notices and Open Amounts", row)
    chart_top = sum(rows.get(str(r), {}).get("size", ROW_HEIGHT) for r in range(row))
    chart_rows = 14
    figures.append(
        odoo_bar(
            "dunning-chart-notices",
            0,
            chart_top,
            640,
            chart_rows * ROW_HEIGHT,
            "Notices per Level and Month",
            RECOVERY,
            ["date:month", "level_id"],
            "__count",
            True,
        )
    )
    figures.append(
        odoo_bar(
            "dunning-chart-age",
            650,
            chart_top,
            560,
            chart_rows * ROW_HEIGHT,
            "Open Amount by Age",
            OPEN,
            ["age_bucket"],
            "amount_open",
            False,
        )
    )
    row += chart_rows + 2
    title("Recovered within 14 and 30 Days after each Level", row)
    row = spilled_pivot(2, row + 1, 11)
    title("Fees and Interest: Booked and Received", row)
    row = spilled_pivot(3, row + 1, 11)
    title("Days Sales Outstanding of Dunned Customers", row)
    row = spilled_pivot(4, row + 1, 11)
    title("Share Handed Over to Collection", row)
    row = spilled_pivot(5, row + 1, 16)

    data_cells = {"A1": {"content": '=_t("Key figure")'}, "B1": {"content": '=_t("Value")'}}
    data_formats = {}
    for index, (label, formula, fmt) in enumerate(KPIS):
        data_cells[f"A{index + 2}"] = {"content": f'=_t("{label}")'}
        data_cells[f"B{index + 2}"] = {"content": formula}
        data_formats[f"B{index + 2}"] = {"#,##0.00": 1, "0": 2, "0.0%": 3, "0.0": 4}[fmt]

    def sheet(sid, name, cells, figures, rows, cols, row_count, styles=None, formats=None):
        return {
            "id": sid,
            "name": name,
            "colNumber": len(COL_WIDTHS),
            "rowNumber": row_count,
            "rows": rows,
            "cols": cols,
            "merges": [],
            "cells": cells,
            "styles": styles or {},
            "formats": formats or {},
            "borders": {},
            "conditionalFormats": [],
            "figures": figures,
            "tables": [],
            "areGridLinesVisible": False,
            "isVisible": True,
            "headerGroups": {"ROW": [], "COL": []},
            "dataValidationRules": [],
            "comments": {},
        }

    cols = {str(i): {"size": w} for i, w in enumerate(COL_WIDTHS)}
    return {
        "version": 21,
        "sheets": [
            sheet(DASHBOARD_SHEET, "Dashboard", cells, figures, rows, cols, row + 5, styles),
            sheet(
                DATA_SHEET,
                "Data",
                data_cells,
                [],
                {},
                {"0": {"size": 220}, "1": {"size": 150}},
                len(KPIS) + 2,
                formats=data_formats,
            ),
        ],
        "styles": {"1": {"textColor": "#01666b", "bold": True, "fontSize": 16}},
        "formats": {"1": "#,##0.00", "2": "0", "3": "0.0%", "4": "0.0"},
        "borders": {},
        "revisionId": "START_REVISION",
        "uniqueFigureIds": True,
        "settings": {
            "locale": {
                "name": "English (US)",
                "code": "en_US",
                "thousandsSeparator": ",",
                "decimalSeparator": ".",
                "dateFormat": "mm/dd/yyyy",
                "timeFormat": "hh:mm:ss",
                "formulaArgSeparator": ",",
                "weekStart": 7,
            }
        },
        "pivots": PIVOTS,
        "pivotNextId": len(PIVOTS) + 1,
        "customTableStyles": {},
        "odooVersion": 12,
        "globalFilters": [],
        "lists": {},
        "listNextId": 1,
        "chartOdooMenusReferences": {
            "dunning-chart-notices": "isp_dunning.menu_isp_dunning_recovery_report",
            "dunning-chart-age": "isp_dunning.menu_isp_dunning_open_report",
        },
    }


def main():
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(build(), indent=1, ensure_ascii=False) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
