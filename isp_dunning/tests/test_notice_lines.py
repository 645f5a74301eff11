from datetime import date, timedelta
from unittest.mock import patch

from odoo.tests import tagged

from ..services import notice_lines
from .common import DunningCommon


@tagged("post_install", "-at_install")
class TestNoticeLines(DunningCommon):
    """The lines of a batch's notices are inserted in one INSERT: each row is
    the row Odoo's ``create`` inserts for the same values."""

    def _rows(self, lines):
        self.env.flush_all()
        self.env.cr.execute(
            "SELECT row_to_json(line) FROM isp_dunning_notice_line line"
            " WHERE id = ANY(%s) ORDER BY id",
            [lines.ids],
        )
        rows = []
        for (row,) in self.env.cr.fetchall():
            row.pop("id")
            rows.append(row)
        return rows

    def test_lines_equal_orm_create(self):
        """Escalated and listed invoices, interest, lump sums and the
        invoices' earlier state: the same rows as the ORM's."""
        due = date(2025, 1, 2)
        for partner in (self.consumer, self.business):
            self.make_invoice(partner, 100.0, due)
            self.make_invoice(partner, 59.99, due + timedelta(days=14))
        calls = []
        original = notice_lines.insert

        def spy(notices, lines_of):
            calls.append((notices, lines_of))
            return original(notices, lines_of)

        when = due
        with patch.object(notice_lines, "insert", spy):
            for _step in range(3):
                when += timedelta(days=14)
                self.dun(when)
        self.assertEqual(len(calls), 3)
        Line = self.env["isp.dunning.notice.line"]
        checked = 0
        kinds = set()
        for notices, lines_of in calls:
            for notice in notices:
                fast = notice.line_ids.sorted("id")
                orm = Line.create([dict(vals, notice_id=notice.id) for vals in lines_of[notice.id]])
                self.assertEqual(len(fast), len(orm))
                self.assertEqual(self._rows(fast), self._rows(orm))
                checked += len(fast)
                kinds |= {
                    (bool(line.interest_amount), bool(line.lump_sum_amount), line.escalated)
                    for line in fast
                }
                kinds |= {("before", line.before_recorded) for line in fast}
        self.assertGreater(checked, 6)
        self.assertIn((True, True, True), kinds)
        self.assertIn(("before", True), kinds)

    def test_lines_are_read_back(self):
        """The new lines are seen through the notices at once (cache)."""
        self.make_invoice(self.consumer, 100.0, date(2025, 1, 2))
        notice = self.dun(date(2025, 1, 9)).notice_ids
        self.assertEqual(len(notice.line_ids), 1)
        line = notice.line_ids
        self.assertEqual(line.notice_id, notice)
        self.assertEqual(line.company_id, notice.company_id)
        self.assertEqual(line.currency_id, notice.currency_id)
        self.assertEqual(line.amount_open, 100.0)
        self.assertEqual(line.create_uid, self.env.user)
