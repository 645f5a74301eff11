import re
from datetime import date, timedelta
from urllib.parse import parse_qs, urlsplit

from odoo import http
from odoo.fields import Command
from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tests.common import HOST, TEST_CURSOR_COOKIE_NAME, JsonRpcException, Opener, get_db_name
from odoo.tools import mute_logger

from ..domain import template_context
from .common import (
    DunningCommon,
    EuroCompanyMixin,
    make_credit_note,
    make_unapplied_payment,
    open_receivables,
)

DUE = date(2025, 1, 1)
IBAN = "DE89370400440532013000"


@tagged("post_install", "-at_install")
class TestPayLinkHttp(HttpCase):
    """A blocked customer pays a notice through its pay link with the demo
    provider, over HTTP and logged out, and can log in again."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.env.ref("base.main_company")
        cls.provider = cls.env.ref("payment.payment_provider_demo")
        if cls.provider.module_id.state != "installed":
            raise AssertionError("These tests need the payment_demo module installed.")
        cls.provider.write({"state": "test", "company_id": cls.company.id})
        Partner = cls.env["res.partner"]
        cls.customer = Partner.create(
            {"name": "Zahlkunde GmbH", "is_company": True, "email": "ap@zahlkunde.example"}
        )
        contact = Partner.create(
            {"name": "Paul Portal", "parent_id": cls.customer.id, "email": "paul@zahlkunde.example"}
        )
        cls.password = "paul.portal.secret"
        cls.user = new_test_user(
            cls.env,
            "paul.portal",
            groups="base.group_portal",
            partner_id=contact.id,
            email=contact.email,
            password=cls.password,
            company_id=cls.company.id,
        )
        cls.invoices = cls.env["account.move"]
        for amount in (120.0, 80.0):
            invoice = cls.env["account.move"].create(
                {
                    "move_type": "out_invoice",
                    "partner_id": cls.customer.id,
                    "invoice_date": DUE,
                    "invoice_date_due": DUE,
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
            invoice.action_post()
            cls.invoices |= invoice

    def escalate(self):
        """Run the default ladder up to the final notice, which blocks."""
        Run = self.env["isp.dunning.run"].with_company(self.company)
        for days in (7, 21, 35, 49):
            Run.run_dunning(date=DUE + timedelta(days=days))
        notice = self.env["isp.dunning.notice"].search(
            [("partner_id", "=", self.customer.id), ("state", "!=", "cancelled")],
            order="level_sequence desc, id desc",
            limit=1,
        )
        self.assertEqual(notice.level_id, self.env.ref("isp_dunning.level_final"))
        self.assertTrue(self.user.dunning_blocked)
        self.assertTrue(notice.fee_move_id, "the final notice books fees")
        return notice

    def anonymous(self):
        """A fresh logged-out browser session."""
        self.session = http.root.session_store.new()
        self.session.update(http.get_default_session(), db=get_db_name())
        self.opener = Opener(self.env.cr)
        self.opener.cookies.set("session_id", self.session.sid, domain=HOST, path="/")
        self.opener.cookies.set(
            TEST_CURSOR_COOKIE_NAME, self.http_request_key, domain=HOST, path="/"
        )

    def web_login(self):
        self.anonymous()
        return self.url_open(
            "/web/login",
            data={
                "login": self.user.login,
                "password": self.password,
                "csrf_token": http.Request.csrf_token(self),
            },
        )

    def test_link_in_mail_letter_and_login_message(self):
        notice = self.escalate()
        url = notice._dunning_pay_url()
        path = urlsplit(url).path
        self.assertEqual(path, f"/dunning/pay/{notice.id}/{notice.access_token}")
        self.assertTrue(url.startswith(self.company.get_base_url()))
        self.assertLess(len(path), 70)
        self.assertIn(url, notice.body_text)
        self.assertIn(f'href="{url}"', notice.body_html)
        self.assertIn(url, notice.mail_id.body_html)
        # The final level goes by post too: the letter carries the short
        # form of the link, to type from paper.
        letter = (
            self.env["ir.actions.report"]
            ._render_qweb_html("isp_dunning.action_report_dunning_letter", notice.ids)[0]
            .decode()
        )
        short = notice._dunning_short_pay_url()
        self.assertIn(short, letter)
        self.assertLess(len(urlsplit(short).path), 30)
        # Every notice of the ladder has a link of its own.
        notices = self.env["isp.dunning.notice"].search([("partner_id", "=", self.customer.id)])
        self.assertEqual(len(notices), 4)
        self.assertEqual(len(set(notices.mapped("access_token"))), 4)
        for each in notices:
            self.assertIn(each._dunning_pay_url(), each.body_text)
        # The login page of the blocked user shows it.
        response = self.web_login()
        self.assertTrue(response.request.path_url.startswith("/web/login"))
        self.assertIn("Your access has been blocked because of unpaid invoices", response.text)
        self.assertIn(url, response.text)

    def test_pay_the_notice_while_blocked_then_log_in(self):
        notice = self.escalate()
        fee_move = notice.fee_move_id
        # The claim the notice states: its invoices, its own fee document and
        # the earlier notices' fee documents still open.
        earlier = notice._claim_earlier_charges()
        self.assertTrue(earlier)
        documents = self.invoices | fee_move | earlier
        expected = sum(documents.mapped("amount_residual"))
        self.assertAlmostEqual(expected, notice.amount_total_due)
        self.assertGreater(fee_move.amount_residual, 0)
        self.assertFalse(self.web_login().request.path_url.startswith("/my"))
        self.anonymous()
        path = f"/dunning/pay/{notice.id}/{notice.access_token}"
        response = self.url_open(path)
        self.assertEqual(response.status_code, 200)
        for move in documents:
            self.assertIn(move.name, response.text)
        self.assertIn('id="o_payment_form"', response.text)
        self.assertIn(f'data-provider-id="{self.provider.id}"', response.text)
        self.assertEqual(response.headers.get("X-Robots-Tag"), "noindex, nofollow")

        method = self.provider.payment_method_ids[:1]
        processing = self.make_jsonrpc_request(
            f"{path}/transaction",
            {
                "provider_id": self.provider.id,
                "payment_method_id": method.id,
                "token_id": None,
                "amount": 1.0,  # what a browser says is ignored
                "flow": "direct",
                "tokenization_requested": False,
                "landing_route": "/somewhere/else",
                "is_validation": False,
                "access_token": notice.access_token,
            },
        )
        tx = self.env["payment.transaction"].search([("reference", "=", processing["reference"])])
        self.assertEqual(len(tx), 1)
        self.assertEqual(tx.invoice_ids, documents)
        self.assertAlmostEqual(tx.amount, expected)
        self.assertEqual(tx.partner_id, self.customer)
        self.assertEqual(tx.landing_route, path)
        self.assertTrue(tx.reference.startswith(notice.name))

        self.make_jsonrpc_request(
            "/payment/demo/simulate_payment",
            {"reference": tx.reference, "payment_details": "4242", "simulated_state": "done"},
        )
        status = self.make_jsonrpc_request("/payment/status/poll", {})
        self.assertEqual(status["state"], "done")
        self.assertEqual(status["landing_route"], path)

        self.env.invalidate_all()
        self.assertTrue(tx.payment_id)
        self.assertAlmostEqual(tx.payment_id.amount, expected)
        for move in documents:
            self.assertIn(move.payment_state, ("paid", "in_payment"), move.name)
            self.assertTrue(move.currency_id.is_zero(move.amount_residual), move.name)
        self.assertFalse(self.user.dunning_blocked)
        self.assertFalse(self.customer.dunning_portal_blocked)

        # The page now says there is nothing left; the customer logs in again.
        response = self.url_open(path)
        self.assertIn('id="o_dunning_pay_settled"', response.text)
        self.assertNotIn('id="o_payment_form"', response.text)
        response = self.web_login()
        self.assertTrue(response.request.path_url.startswith("/my"), response.request.path_url)

    def test_page_shows_the_claim_as_it_stands_now(self):
        notice = self.escalate()
        paid, still_open = self.invoices
        self.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=paid.ids
        ).create({"payment_date": DUE + timedelta(days=50)})._create_payments()
        self.anonymous()
        path = f"/dunning/pay/{notice.id}/{notice.access_token}"
        response = self.url_open(path)
        self.assertNotIn(paid.name, response.text)
        self.assertIn(still_open.name, response.text)
        self.assertIn(notice.fee_move_id.name, response.text)
        processing = self.make_jsonrpc_request(
            f"{path}/transaction",
            {
                "provider_id": self.provider.id,
                "payment_method_id": self.provider.payment_method_ids[:1].id,
                "token_id": None,
                "flow": "direct",
                "tokenization_requested": False,
                "is_validation": True,  # never a validation: the claim is paid
            },
        )
        tx = self.env["payment.transaction"].search([("reference", "=", processing["reference"])])
        charges = notice.fee_move_id | notice._claim_earlier_charges()
        self.assertEqual(tx.invoice_ids, still_open | charges)
        self.assertEqual(tx.operation, "online_direct")
        self.assertAlmostEqual(
            tx.amount, still_open.amount_residual + sum(charges.mapped("amount_residual"))
        )

    def pay_in_the_browser(self, path):
        """Start a payment on the page at ``path`` and have the demo provider
        confirm it; returns the transaction."""
        processing = self.make_jsonrpc_request(
            f"{path}/transaction",
            {
                "provider_id": self.provider.id,
                "payment_method_id": self.provider.payment_method_ids[:1].id,
                "token_id": None,
                "amount": 1.0,
                "flow": "direct",
                "tokenization_requested": False,
                "is_validation": False,
            },
        )
        tx = self.env["payment.transaction"].search([("reference", "=", processing["reference"])])
        self.assertEqual(len(tx), 1)
        return tx

    def page_total(self, response):
        found = re.search(r'id="o_dunning_pay_total">(.*?)</th>', response.text, re.S)
        self.assertTrue(found, "the page shows a total")
        return found.group(1)

    def credit_rows(self, response):
        """(document, amount) of the page's credit rows; the amount as text
        without Odoo's formatting characters (no-break spaces)."""
        rows = re.findall(r'<tr class="o_dunning_pay_credit">(.*?)</tr>', response.text, re.S)
        result = []
        for row in rows:
            document = re.search(r"<span>([^<]*)</span>", row).group(1)
            amount_cell = re.sub(r"<[^>]+>|\s|\ufeff", "", row.split("</td>")[2])
            result.append((document, re.search(r"-?[\d,]+\.\d\d", amount_cell).group(0)))
        return result

    def test_open_credits_are_netted_and_settled_with_the_payment(self):
        notice = self.escalate()
        documents = self.invoices | notice.fee_move_id | notice._claim_earlier_charges()
        gross = sum(documents.mapped("amount_residual"))
        # After the notice: a credit note and, later, a payment not allocated.
        refund = make_credit_note(self.env, self.customer, 30.0, DUE + timedelta(days=50))
        unapplied = make_unapplied_payment(self.env, self.customer, 20.0, DUE + timedelta(days=52))
        self.assertEqual(refund.state, "posted")
        self.assertAlmostEqual(refund.amount_residual, 30.0)
        self.assertTrue(unapplied.origin_payment_id, "an Odoo payment")
        net = gross - 50.0
        self.assertAlmostEqual(float(notice._dunning_open_amount()), net)

        self.anonymous()
        path = f"/dunning/pay/{notice.id}/{notice.access_token}"
        response = self.url_open(path)
        self.assertEqual(response.status_code, 200)
        for move in documents | refund | unapplied:
            self.assertIn(move.name, response.text)
        # the older credit first
        self.assertEqual(
            self.credit_rows(response),
            [(refund.name, "-30.00"), (unapplied.name, "-20.00")],
        )
        self.assertIn(f"{net:,.2f}", self.page_total(response))
        self.assertIn('id="o_payment_form"', response.text)
        self.assertNotIn('id="o_dunning_pay_covered"', response.text)

        tx = self.pay_in_the_browser(path)
        self.assertAlmostEqual(tx.amount, net)
        self.assertEqual(tx.invoice_ids, documents)
        self.assertEqual(tx.dunning_credit_move_ids, refund | unapplied)
        self.make_jsonrpc_request(
            "/payment/demo/simulate_payment",
            {"reference": tx.reference, "payment_details": "4242", "simulated_state": "done"},
        )
        self.make_jsonrpc_request("/payment/status/poll", {})

        self.env.invalidate_all()
        self.assertAlmostEqual(tx.payment_id.amount, net)
        for move in documents | refund | unapplied | tx.payment_id.move_id:
            receivable = move.line_ids.filtered(
                lambda line: line.account_id.account_type == "asset_receivable"
            )
            self.assertTrue(receivable, move.name)
            self.assertTrue(all(receivable.mapped("reconciled")), move.name)
        for move in documents | refund:
            self.assertTrue(move.currency_id.is_zero(move.amount_residual), move.name)
        self.assertFalse(open_receivables(self.env, self.customer))
        self.customer.invalidate_recordset(["credit"])
        self.assertAlmostEqual(self.customer.credit, 0.0)
        self.assertFalse(self.user.dunning_blocked)
        self.assertIn('id="o_dunning_pay_settled"', self.url_open(path).text)

    @mute_logger("odoo.http")
    def test_credits_beyond_the_open_amount_leave_nothing_to_pay(self):
        notice = self.escalate()
        documents = self.invoices | notice.fee_move_id | notice._claim_earlier_charges()
        gross = sum(documents.mapped("amount_residual"))
        refund = make_credit_note(self.env, self.customer, gross + 10.0, DUE + timedelta(days=50))
        self.assertEqual(notice._dunning_open_amount(), 0)

        self.anonymous()
        path = f"/dunning/pay/{notice.id}/{notice.access_token}"
        response = self.url_open(path)
        self.assertEqual(response.status_code, 200)
        self.assertIn(refund.name, response.text)
        # The credit is netted up to the open amount; the rest is the customer's.
        self.assertEqual(self.credit_rows(response), [(refund.name, f"-{gross:,.2f}")])
        self.assertIn("0.00", self.page_total(response))
        self.assertIn('id="o_dunning_pay_covered"', response.text)
        left = re.search(r"Remaining credit in your favour:(.*?)</p>", response.text, re.S)
        self.assertTrue(left)
        self.assertIn("10.00", left.group(1))
        self.assertNotIn('id="o_payment_form"', response.text)
        self.assertNotIn('id="o_dunning_pay_transfer"', response.text)
        Tx = self.env["payment.transaction"]
        count = Tx.search_count([])
        with self.assertRaisesRegex(JsonRpcException, "ValidationError"):
            self.pay_in_the_browser(path)
        self.assertEqual(Tx.search_count([]), count)
        # Nothing was settled: the accountant applies the credit.
        self.assertAlmostEqual(refund.amount_residual, gross + 10.0)

    def assertInvalidPage(self, response, notice):
        self.assertEqual(response.status_code, 404)
        self.assertIn('id="o_dunning_pay_invalid"', response.text)
        for secret in (
            notice.name,
            self.customer.name,
            *self.invoices.mapped("name"),
            notice.fee_move_id.name,
            'id="o_payment_form"',
        ):
            self.assertNotIn(secret, response.text)

    @mute_logger("odoo.http")
    def test_wrong_unknown_or_cancelled_link_reveals_nothing(self):
        notice = self.escalate()
        token = notice.access_token
        self.anonymous()
        wrong = token[:-1] + ("0" if token[-1] != "0" else "1")
        self.assertInvalidPage(self.url_open(f"/dunning/pay/{notice.id}/{wrong}"), notice)
        self.assertInvalidPage(self.url_open(f"/dunning/pay/{notice.id}/x"), notice)
        self.assertInvalidPage(self.url_open(f"/dunning/pay/{notice.id + 10000}/{token}"), notice)
        # Another notice's token does not open this one.
        other = self.env["isp.dunning.notice"].search(
            [("partner_id", "=", self.customer.id), ("id", "!=", notice.id)], limit=1
        )
        self.assertInvalidPage(
            self.url_open(f"/dunning/pay/{notice.id}/{other.access_token}"), notice
        )
        Tx = self.env["payment.transaction"]
        count = Tx.search_count([])
        with self.assertRaises(JsonRpcException):
            self.make_jsonrpc_request(
                f"/dunning/pay/{notice.id}/{wrong}/transaction",
                {
                    "provider_id": self.provider.id,
                    "payment_method_id": self.provider.payment_method_ids[:1].id,
                    "token_id": None,
                    "flow": "direct",
                    "tokenization_requested": False,
                },
            )
        self.assertEqual(Tx.search_count([]), count)
        # The letter's short link: on to the pay page; wrong ones reveal nothing.
        short = notice._dunning_short_pay_url()
        response = self.url_open(short, allow_redirects=False)
        self.assertEqual(response.status_code, 303)
        self.assertTrue(response.headers["Location"].endswith(f"/dunning/pay/{notice.id}/{token}"))
        self.assertEqual(self.url_open(short).status_code, 200)
        short_wrong = short[:-1] + ("0" if short[-1] != "0" else "1")
        self.assertInvalidPage(self.url_open(short_wrong), notice)
        self.assertInvalidPage(self.url_open(f"/mp/{other.id}/{short.rsplit('/', 1)[1]}"), notice)
        # A cancelled notice's links are dead.
        notice.state = "cancelled"
        self.assertInvalidPage(self.url_open(f"/dunning/pay/{notice.id}/{token}"), notice)
        self.assertInvalidPage(self.url_open(short), notice)


@tagged("post_install", "-at_install")
class TestGiroCode(EuroCompanyMixin, DunningCommon):
    """The GiroCode of a notice: Odoo's EPC QR code (SEPA credit transfer)
    with the company's IBAN, the exact amount and the notice number."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.bank = cls.env["res.partner.bank"].create(
            {
                "acc_number": IBAN,
                "acc_holder_name": "Netz Kontoinhaber GmbH",
                "bank_id": cls.env["res.bank"]
                .create({"name": "Testbank", "bic": "COBADEFFXXX"})
                .id,
                "partner_id": cls.company.partner_id.id,
            }
        )
        cls.level_2.write(
            {
                "body_html_template": "<p>{{ notice.number }}</p>"
                '<img src="{{ notice.girocode_url }}"/><p>{{ notice.pay_url }}</p>',
            }
        )

    def notice(self):
        self.make_invoice(self.business, 1234.56, D(2025, 1, 1))
        self.dun(D(2025, 1, 8))
        self.dun(D(2025, 1, 22))
        notice = self.notices_of(self.business)[-1]
        self.assertEqual(notice.level_id, self.level_2)
        self.assertEqual(notice.currency_id.name, "EUR")
        return notice

    @staticmethod
    def payload_of(url):
        return parse_qs(urlsplit(url).query)["value"][0].split("\n")

    def test_payload_decodes_to_iban_amount_and_reference(self):
        notice = self.notice()
        self.assertGreater(notice.fee_amount + notice.interest_amount, 0)
        amount = notice.amount_total_due
        self.assertAlmostEqual(amount, float(notice._dunning_open_amount()))
        lines = notice._dunning_girocode_payload(amount).split("\n")
        self.assertEqual(lines[:4], ["BCD", "002", "1", "SCT"])
        self.assertEqual(lines[4], "COBADEFFXXX")
        self.assertEqual(lines[5], "Netz Kontoinhaber GmbH")
        self.assertEqual(lines[6], IBAN)
        self.assertTrue(lines[7].startswith("EUR"), lines[7])
        self.assertEqual(float(lines[7][3:]), amount)
        self.assertLessEqual(len(lines[7].partition(".")[2]), 2)
        self.assertEqual(lines[10], notice.name)
        # The image in the mail carries the same payload, from an absolute URL.
        url = notice._render_context()["notice"]["girocode_url"]
        self.assertTrue(url.startswith(self.company.get_base_url() + "/report/barcode/?"))
        self.assertEqual(self.payload_of(url), lines)
        self.assertIn("barcode_type=QR", url)
        self.assertIn("/report/barcode/?", notice.body_html)
        self.assertIn(notice._dunning_pay_url(), notice.body_html)
        self.assertIn("/report/barcode/?", notice.mail_id.body_html)
        # The image itself is served without login.
        image = notice._dunning_girocode_image(amount)
        self.assertTrue(image.startswith("data:image/png;base64,"))

    def test_amount_is_exact(self):
        notice = self.notice()
        cases = ((1236.5, "EUR1236.5"), (0.1 + 0.2, "EUR0.3"), (12.345, "EUR12.35"))
        for amount, text in cases + ((1300, "EUR1300.0"),):
            self.assertEqual(notice._dunning_girocode_payload(amount).split("\n")[7], text)

    def test_no_girocode_without_iban_or_euro_or_amount(self):
        notice = self.notice()
        self.assertEqual(notice._dunning_girocode_payload(0), "")
        self.assertEqual(notice._dunning_girocode_url(-5), "")
        self.bank.acc_number = "123456789"  # not an IBAN
        self.assertEqual(notice._dunning_girocode_payload(10), "")
        self.bank.acc_number = IBAN
        self.assertTrue(notice._dunning_girocode_payload(10))
        notice.currency_id = self.env.ref("base.USD")
        self.assertEqual(notice._dunning_girocode_payload(10), "")

    def test_links_are_empty_until_the_notice_has_them(self):
        # What a notice's context is built from has no links of its own: the
        # keys exist and are empty until _render_context fills them in.
        context = self.Notice._build_render_context(
            partner=self.business,
            level=self.level_2,
            date=D(2025, 1, 1),
            deadline=D(2025, 1, 11),
            currency=self.company.currency_id,
            lines=[],
            amounts=dict.fromkeys(template_context.MONEY_KEYS, 0.0),
            reference="PREVIEW",
            company=self.company,
        )
        self.assertEqual(context["notice"]["pay_url"], "")
        self.assertEqual(context["notice"]["girocode_url"], "")


D = date
