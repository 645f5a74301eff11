"""The Odoo side of the fault trials: one process per call, one database.

    python3 faults/worker.py company --db DB
    python3 faults/worker.py seed --db DB --as-of 2026-11-27
    python3 faults/worker.py run --db DB --plan c1,c1 [--snapshot OUT] [--wait-go] [--workers N]
    python3 faults/worker.py work --db DB [--wait-go]

``work`` is a batch worker (what the scheduled actions "Dunning: batch
worker N" do): it takes batches of running runs until no run with open
batches is left (``--workers N`` on ``run`` sets the companies' Parallel
Workers first, so that their runs share their batches). It reports
``CLAIM <batch id> <run id>`` for each batch it takes, COMMIT events as
``run`` does, and ``WORKED <batches> <seconds>`` at the end.

``run`` executes the dunning runs of ``--plan`` one after the other in this
process (``c1`` the main company, ``c2`` the second one), as the cron does:
``with_context(dunning_autocommit=True).run_dunning(date=as_of)``; ``c1:now``
runs as the "Run now" button does, in one transaction committed after
``run_dunning`` returned (held NOW_COMMIT_HOLD seconds); ``c1:inject`` is a
cron run during which another transaction updates one customer while its
batch is being booked (see ``install_injection``); ``c1:nowfail`` a "Run
now" that fails with a database error (see ``failing_request``), after which
the process stays alive until it reads a line on stdin. It
reports on stdout, one line per event, flushed at once, so that a parent
that SIGKILLs it knows what was committed:

    READY                       registry loaded (with --wait-go: waits for GO on stdin)
    START <i> <company>         run i begins
    CANDIDATES <n>              customers with overdue invoices
    HEALED <n>                  notices _pending_delivery found to deliver at the start
    COMMIT_BEGIN <k> <n> / COMMIT_END <k>   the run's k-th commit (0: state
                                running, then one per batch, the last: state
                                done); n: the run's notices it makes durable
    RETURNED <i> <company> <state>   (c1:now) run_dunning returned, commit held
    INJECTED <ref> / FAILURE <error> <customers>   (c1:inject) see install_injection
    IDLE                        (c1:nowfail) failed; each NEXT line on stdin opens
                                a cursor (NEXT_DONE), any other line ends it
    RUN <i> <company> <state> <notices> <errors> <seconds>
    SNAPSHOT <path>

PDF rendering is stubbed (see ``stub_pdfs``): the trials test transactions,
not wkhtmltopdf, and a real letter costs a second and a half each.
"""

import argparse
import datetime as dt
import importlib
import json
import os
import random
import sys
import time
from collections import Counter, defaultdict

ODOO_SRC = os.environ.get("FAULTS_ODOO_SRC")
if ODOO_SRC and ODOO_SRC not in sys.path:
    sys.path.insert(0, ODOO_SRC)

import odoo  # noqa: E402
from odoo import SUPERUSER_ID, api  # noqa: E402
from odoo.fields import Command  # noqa: E402
from odoo.modules.registry import Registry  # noqa: E402
from odoo.tools import config  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
from german_company import make_german_isp  # noqa: E402

AS_OF_PARAM = "isp_faults.as_of"
# Seconds a "c1:now" run (Run now: one transaction) waits before its commit.
NOW_COMMIT_HOLD = 1.0
# Raise when the book (seed, setup_companies) changes: the template is rebuilt.
BOOK_VERSION = 4
SECOND_COMPANY = "Muster Netz Süd GmbH"
T0 = time.monotonic()


def emit(*parts):
    sys.stdout.write(" ".join(str(part) for part in parts) + "\n")
    sys.stdout.flush()


def addons_path():
    path = os.environ.get("FAULTS_ADDONS_PATH")
    if path:
        return path
    src = os.path.dirname(os.path.dirname(odoo.__file__))
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    return ",".join([os.path.join(src, "addons"), os.path.join(src, "odoo", "addons"), root])


def open_registry(db):
    config.parse_config(
        [
            "-d",
            db,
            f"--addons-path={addons_path()}",
            "--log-level=warn",
            "--no-http",
            "--max-cron-threads=0",
        ]
    )
    return Registry(db)


def companies(env):
    main = env.ref("base.main_company")
    second = env["res.company"].search([("name", "=", SECOND_COMPANY)], limit=1)
    return {"c1": main, "c2": second}


# ----------------------------------------------------------------------
# Instrumentation: PDFs stubbed, commits and healing traced
# ----------------------------------------------------------------------
def addon_module(name):
    """A module of the addon (importable once the registry set the addons path)."""
    return importlib.import_module(f"odoo.addons.isp_dunning.models.{name}")


def stub_pdfs():
    delivery = addon_module("isp_dunning_notice_delivery")

    def _render_pdfs(self, report_ref, records):
        return {
            record.id: b"%PDF-1.4\n% isp_faults stub " + f"{report_ref} {record.id}".encode()
            for record in records
        }

    delivery.IspDunningNotice._render_pdfs = _render_pdfs
    delivery.IspDunningNotice._ensure_report_assets = lambda self: None


def trace_run():
    delivery = addon_module("isp_dunning_notice_delivery")
    run_module = addon_module("isp_dunning_run")

    counter = [0]
    original_commit = run_module.IspDunningRun._commit
    reader = importlib.import_module("odoo.addons.isp_dunning.services.batch_reader")
    original_candidates = reader.candidate_partner_ids
    original_pending = delivery.IspDunningNotice._pending_delivery

    def _commit(self):
        if not self._autocommit():
            return original_commit(self)
        index = counter[0]
        counter[0] += 1
        # What this commit makes durable: the run's notices so far.
        self.env.flush_all()
        self.env.cr.execute("SELECT count(*) FROM isp_dunning_notice WHERE run_id = %s", [self.id])
        emit("COMMIT_BEGIN", index, self.env.cr.fetchone()[0])
        result = original_commit(self)
        emit("COMMIT_END", index)
        return result

    def candidate_partner_ids(run):
        ids = original_candidates(run)
        emit("CANDIDATES", len(ids))
        return ids

    def _pending_delivery(self, company):
        pending = original_pending(self, company)
        emit("HEALED", len(pending))
        return pending

    run_module.IspDunningRun._commit = _commit
    reader.candidate_partner_ids = candidate_partner_ids
    delivery.IspDunningNotice._pending_delivery = _pending_delivery
    return counter


# ----------------------------------------------------------------------
# company: a German company (main), SKR03, and a second German company
# ----------------------------------------------------------------------
def setup_companies(env):
    company = make_german_isp(env)
    chart = env["account.chart.template"]
    if company.chart_template != "de_skr03":
        chart.try_loading("de_skr03", company, install_demo=False)
    second = env["res.company"].search([("name", "=", SECOND_COMPANY)], limit=1)
    if not second:
        vals = {"iap_enrich_auto_done": True} if "iap_enrich_auto_done" in company else {}
        second = env["res.company"].create(
            {
                **vals,
                "name": SECOND_COMPANY,
                "street": "Kabelstraße 5",
                "zip": "80331",
                "city": "München",
                "country_id": env.ref("base.de").id,
                "currency_id": env.ref("base.EUR").id,
                "email": "buchhaltung@muster-netz-sued.example",
                "vat": "DE813495425",
            }
        )
    env.user.company_ids |= second
    if second.chart_template != "de_skr03":
        chart.try_loading("de_skr03", second, install_demo=False)


# ----------------------------------------------------------------------
# seed: the book, dated relative to --as-of
# ----------------------------------------------------------------------
FIRST = "Anna Lena Lukas Jonas Leon Finn Paul Emma Mia Hannah Sophie Felix Elias Ben Laura".split()
LAST = "Müller Schmidt Schneider Fischer Weber Meyer Wagner Becker Schulz Hoffmann Koch".split()
TRADES = "Bäckerei Elektro Malerbetrieb Steuerkanzlei Autohaus Tischlerei Optik".split()


def seed(env, as_of, customers=200, shared=50, second_only=20, seed_value=4711):
    """~200 customers of the main company (50 of them also customers of the
    second company, which has 20 of its own), 1 to 4 monthly invoices each,
    some partly paid, disputed, in USD, excluded; portal users; history:
    weekly dunning runs before ``as_of``."""
    rng = random.Random(seed_value)
    # German texts for the customers (de_DE), loaded for the addon only.
    env["res.lang"]._activate_lang("de_DE")
    env["ir.module.module"].search([("name", "in", ("base", "isp_dunning"))])._update_translations(
        ["de_DE"]
    )
    comps = companies(env)
    main, second = comps["c1"], comps["c2"]
    env["ir.config_parameter"].sudo().set_param(AS_OF_PARAM, as_of.isoformat())
    usd = env.ref("base.USD")
    usd.active = True
    for company in (main, second):
        env["res.currency.rate"].create(
            {
                "name": as_of - dt.timedelta(days=400),
                "currency_id": usd.id,
                "company_id": company.id,
                "rate": 1.08,
            }
        )
    agency = env["res.partner"].create(
        {
            "name": "Inkasso Nord GmbH",
            "is_company": True,
            "email": "faelle@inkasso-nord.example",
            "country_id": env.ref("base.de").id,
        }
    )
    setup_levels(env, main, agency)
    setup_levels(env, second, agency)
    product = env["product.product"].create(
        {"name": "Glasfaser 250 (monatlich)", "type": "service", "list_price": 39.99}
    )
    for company in (main, second):
        company.write({"dunning_batch_size": 10, "dunning_product_id": product.id})

    partners = make_partners(env, rng, customers + second_only)
    # The shared customers come first, so that runs of the two companies
    # started together reach them in the same batches.
    main_partners = partners[:customers]
    second_partners = partners[:shared] + partners[customers:]
    make_portal_users(env, rng, partners)
    invoices = []
    invoices += make_invoices(env, rng, main, main_partners, as_of, product, usd)
    invoices += make_invoices(env, rng, second, second_partners, as_of, product, usd)
    pay_some(env, rng, invoices, as_of, fraction=0.12)
    dispute_some(rng, invoices, as_of, fraction=0.02)
    for partner in rng.sample(partners, 4):
        partner.dunning_excluded = True
    env.cr.commit()

    # History: weekly runs, ten weeks for the main company (enough for an
    # invoice to climb the five levels up to the handover), four for the
    # second; one transaction each.
    stub_pdfs()
    for weeks in range(10, 0, -1):
        day = as_of - dt.timedelta(weeks=weeks)
        for company in (main, second) if weeks <= 4 else (main,):
            run = env["isp.dunning.run"].with_company(company).run_dunning(date=day)
            emit("HISTORY", day, company.name, run.state, run.notice_count, run.error_count)
        env.cr.commit()
    # After the history: payments and disputes that the next run must see.
    pay_some(env, rng, invoices, as_of, fraction=0.08)
    dispute_some(rng, invoices, as_of, fraction=0.02)
    # Some mails of the history were sent, some failed: a realistic queue.
    history_mails = env["mail.mail"].search([("dunning_notice_id", "!=", False)])
    history_mails.write({"state": "sent"})
    env.cr.commit()
    emit("SEEDED", len(partners), len(invoices))


def setup_levels(env, company, agency):
    Level = env["isp.dunning.level"].with_context(active_test=False)
    ladder = Level.search([("company_id", "=", company.id)], order="sequence")
    if not ladder:
        main_ladder = Level.search(
            [("company_id", "=", env.ref("base.main_company").id)], order="sequence"
        )
        ladder = Level.browse()
        for level in main_ladder:
            ladder |= level.copy({"company_id": company.id, "name": level.name})
    final = ladder.filtered(lambda lv: lv.block_portal)[:1]
    final.attach_invoices = True
    template = ladder[-1]
    Level.create(
        {
            "name": "Collection handover",
            "company_id": company.id,
            "sequence": template.sequence + 10,
            "delay_days": 14,
            "delay_basis": "previous_level",
            "fee_amount": 0.0,
            "interest_mode": "statutory",
            "send_email": True,
            "send_letter": True,
            "block_portal": True,
            "collection_handover": True,
            "collection_agency_id": agency.id,
            "attach_invoices": True,
            "cc_emails": "buchhaltung@muster-netz.example",
            "subject_template": "Collection case for {{ partner.name }}",
            "body_text_template": "Dear {{ partner.name }}, we handed over "
            "{{ notice.amount_total_due|money(notice.currency_symbol) }}.",
            "body_html_template": "<p>Dear {{ partner.name }}, we handed over "
            "{{ notice.amount_total_due|money(notice.currency_symbol) }}.</p>",
        }
    )


def make_partners(env, rng, count):
    vals = []
    for index in range(1, count + 1):
        business = rng.random() < 0.15
        last = rng.choice(LAST)
        first = rng.choice(FIRST)
        slug = f"{first}.{last}".lower().translate(str.maketrans("äöüß", "aous"))
        email = f"{slug}.{index}@kunde.example" if rng.random() < 0.9 else False
        row = {
            "name": f"{rng.choice(TRADES)} {last} GmbH" if business else f"{first} {last}",
            "ref": f"F-{index:04d}",
            "is_company": business,
            "vat": "DE123456788" if business else False,
            "email": email,
            "lang": "de_DE",
            "street": f"Hauptstraße {index}",
            "zip": "20095",
            "city": "Hamburg",
            "country_id": env.ref("base.de").id,
        }
        if business and email and rng.random() < 0.3:
            row["dunning_email"] = f"buchhaltung.{index}@kunde.example"
        if business and rng.random() < 0.3:
            row["child_ids"] = [
                Command.create(
                    {"name": "Rechnungen", "type": "invoice", "email": f"re.{index}@kunde.example"}
                )
            ]
        vals.append(row)
    partners = env["res.partner"].with_context(no_vat_validation=True).create(vals)
    return list(partners)


def make_portal_users(env, rng, partners):
    portal = env.ref("base.group_portal")
    vals = [
        {
            "name": partner.name,
            "login": partner.email,
            "partner_id": partner.id,
            "groups_id": [Command.set(portal.ids)],
        }
        for partner in partners
        if partner.email and not partner.is_company and rng.random() < 0.12
    ]
    env["res.users"].with_context(no_reset_password=True).create(vals)


def make_invoices(env, rng, company, partners, as_of, product, usd):
    env = env(context=dict(env.context, allowed_company_ids=[company.id]))
    journal = env["account.journal"].search(
        [("type", "=", "sale"), ("company_id", "=", company.id)], limit=1
    )
    tax = company.account_sale_tax_id
    term = env["account.payment.term"].search(
        [("company_id", "in", (company.id, False)), ("name", "=", "14 Tage (faults)")], limit=1
    ) or env["account.payment.term"].create(
        {
            "name": "14 Tage (faults)",
            "line_ids": [Command.create({"value": "percent", "value_amount": 100, "nb_days": 14})],
        }
    )
    vals = []
    for partner in partners:
        months = rng.choice((1, 1, 2, 2, 3, 4))
        first_age = rng.randint(16, 150)
        price = rng.choice((24.99, 29.99, 39.99, 49.99, 79.99))
        if partner.is_company:
            price *= rng.choice((1, 5, 20))
        for month in range(months):
            age = first_age - 30 * month
            if age < 16:
                break
            vals.append(
                invoice_vals(journal, partner, as_of - dt.timedelta(days=age), price, term, tax)
            )
            vals[-1]["invoice_line_ids"][0][2]["product_id"] = product.id
        if rng.random() < 0.04:
            usd_vals = invoice_vals(
                journal, partner, as_of - dt.timedelta(days=rng.randint(40, 90)), 99.0, term, tax
            )
            usd_vals["currency_id"] = usd.id
            vals.append(usd_vals)
    moves = env["account.move"].browse()
    for start in range(0, len(vals), 100):
        batch = env["account.move"].create(vals[start : start + 100])
        batch.action_post()
        moves |= batch
    return list(moves)


def invoice_vals(journal, partner, date, price, term, tax):
    return {
        "move_type": "out_invoice",
        "partner_id": partner.id,
        "journal_id": journal.id,
        "company_id": journal.company_id.id,
        "invoice_date": date,
        "date": date,
        "invoice_payment_term_id": term.id,
        "invoice_line_ids": [
            Command.create(
                {
                    "name": "Glasfaser 250",
                    "quantity": 1,
                    "price_unit": round(price / 1.19, 2),
                    "tax_ids": [Command.set(tax.ids)],
                }
            )
        ],
    }


def pay_some(env, rng, invoices, as_of, fraction):
    for move in rng.sample(invoices, int(len(invoices) * fraction)):
        if move.payment_state not in ("not_paid", "partial"):
            continue
        amount = move.amount_residual
        if rng.random() < 0.6:
            amount = round(amount / 2, 2)
        env["account.payment.register"].with_company(move.company_id).with_context(
            active_model="account.move", active_ids=move.ids
        ).create(
            {"amount": amount, "payment_date": as_of - dt.timedelta(days=rng.randint(1, 10))}
        )._create_payments()


def dispute_some(rng, invoices, as_of, fraction):
    for move in rng.sample(invoices, max(1, int(len(invoices) * fraction))):
        if move.payment_state in ("not_paid", "partial"):
            move.write(
                {
                    "dunning_blocked_until": as_of + dt.timedelta(days=rng.randint(5, 30)),
                    "dunning_block_reason": rng.choice(("dispute", "promise")),
                }
            )


# ----------------------------------------------------------------------
# snapshot: the outcome, without ids, timestamps or sequence numbers
# ----------------------------------------------------------------------
def money(value):
    return round(value or 0.0, 2)


def date_str(value):
    return value.isoformat() if value else None


def snapshot(env):
    env.invalidate_all()
    env = env(context={"active_test": False, "lang": "en_US"})
    comps = {company.id: key for key, company in companies(env).items()}
    Notice = env["isp.dunning.notice"]
    notices = Notice.search([], order="id")
    cr = env.cr
    cr.execute(
        "SELECT dunning_notice_id, count(*) FROM mail_mail "
        "WHERE dunning_notice_id IS NOT NULL GROUP BY 1"
    )
    mails_per_notice = dict(cr.fetchall())
    cr.execute(
        "SELECT res_id, count(*) FROM ir_attachment "
        "WHERE res_model = 'isp.dunning.notice' GROUP BY 1"
    )
    attachments_per_notice = dict(cr.fetchall())
    fee_moves = defaultdict(list)
    for move in env["account.move"].search([("dunning_fee_notice_id", "!=", False)]):
        fee_moves[move.dunning_fee_notice_id.id].append(move)

    result_notices = defaultdict(list)
    numbering = {"notices": [], "fee_docs": []}
    for notice in notices:
        key = "|".join(
            [
                comps.get(notice.company_id.id, "?"),
                notice.partner_id.ref or notice.partner_id.name,
                date_str(notice.date),
                notice.level_id.name,
                notice.currency_id.name,
            ]
        )
        fees = fee_moves.get(notice.id, [])
        result_notices[key].append(
            {
                "state": notice.state,
                "channel": notice.channel,
                "email_to": notice.email_to or None,
                "amount_open": money(notice.amount_open),
                "fee": money(notice.fee_amount),
                "lump_sum": money(notice.lump_sum_amount),
                "interest": money(notice.interest_amount),
                "invoices": sorted(notice.move_ids.mapped("name")),
                "lines": sorted(
                    [
                        line.move_id.name,
                        line.escalated,
                        line.level_id.name or None,
                        money(line.amount_open),
                        money(line.interest_amount),
                        money(line.lump_sum_amount),
                    ]
                    for line in notice.line_ids
                ),
                "rendered": bool(notice.subject and notice.body_html),
                "mail": bool(notice.mail_id),
                "handover_mail": bool(notice.handover_mail_id),
                "mails": mails_per_notice.get(notice.id, 0),
                "letter": bool(notice.letter_attachment_id),
                "attachments": attachments_per_notice.get(notice.id, 0),
                "fee_docs": sorted(
                    [
                        move.state,
                        move.move_type,
                        money(move.amount_total),
                        money(move.amount_residual),
                        len(move.invoice_line_ids),
                    ]
                    for move in fees
                ),
                "portal_block": notice.portal_block,
                "portal_block_postponed": notice.portal_block_postponed,
            }
        )
        numbering["notices"].append([key, notice.name])
        numbering["fee_docs"] += [[key, move.name] for move in fees]
    for rows in result_notices.values():
        rows.sort(key=lambda row: json.dumps(row, sort_keys=True))

    invoices = {}
    for move in env["account.move"].search(
        [("move_type", "=", "out_invoice"), ("dunning_fee_notice_id", "=", False)]
    ):
        invoices[f"{comps.get(move.company_id.id, '?')}|{move.name}"] = {
            "level": move.dunning_level_id.name or None,
            "first": date_str(move.dunning_first_date),
            "last": date_str(move.dunning_last_date),
            "next": date_str(move.dunning_next_date),
            "interest_until": date_str(move.dunning_interest_until),
            "lump_sum_charged": move.dunning_lump_sum_charged,
            "handed_over": move.dunning_handed_over,
            "handover_date": date_str(move.dunning_handover_date),
            "residual": money(move.amount_residual),
            "notices": len(move.dunning_notice_ids),
        }
    partners = {}
    for partner in env["res.partner"].search([("ref", "like", "F-")]):
        block_notice = partner.dunning_portal_block_notice_id
        partners[partner.ref] = {
            "level": partner.dunning_level_id.name or None,
            "level_company": comps.get(partner.dunning_level_id.company_id.id),
            "portal_blocked": partner.dunning_portal_blocked,
            "block_notice": (
                f"{date_str(block_notice.date)} {block_notice.level_id.name}"
                if block_notice
                else None
            ),
        }
    users = {
        user.login: user.dunning_blocked
        for user in env["res.users"].search([("share", "=", True), ("login", "like", "@kunde")])
    }
    cr.execute("SELECT state, count(*) FROM mail_mail GROUP BY 1")
    mail_states = dict(cr.fetchall())
    cr.execute("SELECT move_type || '/' || state, count(*) FROM account_move GROUP BY 1 ORDER BY 1")
    moves = dict(cr.fetchall())
    cr.execute("SELECT coalesce(res_model, '-'), count(*) FROM ir_attachment GROUP BY 1")
    attachments = {
        model: count
        for model, count in cr.fetchall()
        if model in ("isp.dunning.notice", "account.move")
    }
    cr.execute("SELECT coalesce(model, '-'), count(*) FROM mail_message GROUP BY 1")
    messages = {
        model: count
        for model, count in cr.fetchall()
        if model in ("isp.dunning.notice", "res.partner", "account.move")
    }
    runs = Counter(
        f"{comps.get(run.company_id.id, '?')} {date_str(run.date)} {run.state}"
        for run in env["isp.dunning.run"].search([])
    )
    return {
        "notices": result_notices,
        "invoices": invoices,
        "partners": partners,
        "portal_users": users,
        "totals": {
            "notices": len(notices),
            "mail_mail": sum(mail_states.values()),
            "mail_mail_by_state": mail_states,
            "account_move": moves,
            "attachments": attachments,
        },
        "soft": {"messages": messages, "numbering": numbering, "runs": dict(runs)},
    }


# ----------------------------------------------------------------------
# run: the dunning as the cron runs it
# ----------------------------------------------------------------------
def set_workers(registry, workers):
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        for company in companies(env).values():
            if company:
                company.dunning_parallel_workers = workers


def trace_claims():
    batch_module = addon_module("isp_dunning_run_batch")
    original = batch_module.IspDunningRunBatch._claim

    def _claim(self, run_ids, worker=None):
        batch = original(self, run_ids, worker=worker)
        if batch:
            emit("CLAIM", batch.id, batch.run_id.id)
        return batch

    batch_module.IspDunningRunBatch._claim = _claim


def work(registry, wait_go, idle_timeout=120.0):
    """A batch worker: ``_cron_work_batches`` until no run with open batches
    is left once a run with batches has appeared since the start (at most
    ``idle_timeout`` seconds waiting for one)."""
    stub_pdfs()
    trace_run()
    trace_claims()
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        env["isp.dunning.run.batch"].search([], limit=1)
        cr.rollback()
        # Before READY: a run created right after GO counts as seen.
        cr.execute("SELECT now() AT TIME ZONE 'UTC'")
        since = cr.fetchone()[0]
    emit("READY")
    if wait_go and sys.stdin.readline().strip() != "GO":
        emit("ABORT")
        return
    start = time.monotonic()
    seen = False
    while True:
        with registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            env["isp.dunning.run"]._cron_work_batches()
            cr.commit()
            cr.execute(
                "SELECT count(*) FROM isp_dunning_run r WHERE r.state = 'running'"
                " AND EXISTS (SELECT 1 FROM isp_dunning_run_batch b WHERE b.run_id = r.id)"
            )
            open_runs = cr.fetchone()[0]
            cr.execute(
                "SELECT count(*) FROM isp_dunning_run r WHERE r.create_date >= %s"
                " AND EXISTS (SELECT 1 FROM isp_dunning_run_batch b WHERE b.run_id = r.id)",
                [since],
            )
            seen = seen or cr.fetchone()[0] > 0
        if not open_runs and (seen or time.monotonic() - start > idle_timeout):
            break
        time.sleep(0.1)
    emit("WORKED", f"{time.monotonic() - start:.3f}")


def run_plan(registry, plan, snapshot_path, wait_go, date):
    stub_pdfs()
    commits = trace_run()
    trace_claims()
    injection = install_injection(registry) if any(":inject" in i for i in plan) else {}
    snapshots = []
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        comps = companies(env)
        as_of = date or env["ir.config_parameter"].get_param(AS_OF_PARAM)
        # Load what the first run would load lazily, so that GO starts the run.
        env["isp.dunning.run"].search([], limit=1)
        cr.rollback()
        emit("READY")
        if wait_go:
            line = sys.stdin.readline()
            if line.strip() != "GO":
                emit("ABORT")
                return
        for index, item in enumerate(plan):
            key, _sep, mode = item.partition(":")
            company = comps[key]
            start = time.monotonic()
            commits[0] = 0
            emit("START", index, item)
            if mode == "nowfail":
                state = failing_request(registry, company, as_of)
                emit("RUN", index, item, state, 0, 0, f"{time.monotonic() - start:.3f}")
                # Stay alive like an HTTP worker, its pooled connections open;
                # on NEXT, open a cursor as its next request would.
                emit("IDLE")
                while sys.stdin.readline().strip() == "NEXT":
                    with registry.cursor() as next_cr:
                        next_cr.execute("SELECT 1")
                    emit("NEXT_DONE")
                continue
            context = {"allowed_company_ids": [company.id]}
            injection["armed"] = mode == "inject"
            if mode != "now":
                context["dunning_autocommit"] = True  # the cron's way
            Run = env["isp.dunning.run"].with_company(company).with_context(**context)
            try:
                run = Run.run_dunning(date=dt.date.fromisoformat(as_of))
                state, notices, errors = run.state, run.notice_count, run.error_count
                if mode == "now":
                    # "Run now": one transaction, committed by the request after
                    # run_dunning returned; the commit is held to widen that gap.
                    emit("RETURNED", index, item, state)
                    time.sleep(NOW_COMMIT_HOLD)
                cr.commit()
            except Exception as error:  # noqa: BLE001 - reported to the parent
                cr.rollback()
                state, notices, errors = f"raised:{type(error).__name__}", 0, 0
            emit("RUN", index, item, state, notices, errors, f"{time.monotonic() - start:.3f}")
            if snapshot_path:
                cr.commit()
                snapshots.append(snapshot(env))
                cr.rollback()
    if snapshot_path:
        with open(snapshot_path, "w", encoding="utf-8") as handle:
            json.dump(snapshots, handle, sort_keys=True, indent=1, default=str)
        emit("SNAPSHOT", snapshot_path)


# ----------------------------------------------------------------------
# c1:inject: a concurrent update of one customer while its batch is booked
# ----------------------------------------------------------------------
def install_injection(registry):
    """Wrap ``services.booking.book``: in a run with ``armed`` set, just before the first
    batch with a customer whose dunning level rises is booked, another
    transaction updates that customer (its phone number, as a user or a
    CRM/provisioning sync would) and commits. The batch then writes the same
    res.partner row (``_dunning_refresh_level``) from an older snapshot.
    Failures of ``book`` are reported as FAILURE events."""
    booking = importlib.import_module("odoo.addons.isp_dunning.services.booking")
    original_book = booking.book
    state = {"armed": False}

    def book(run, plans, move_data, context, stats):
        if state["armed"]:
            Level = run.env["isp.dunning.level"]
            for partner in run.env["res.partner"].browse(list(plans)):
                levels = Level.browse([n.level.id for n in plans[partner.id].notices])
                current = partner.dunning_level_id
                if levels and (not current or max(levels.mapped("sequence")) > current.sequence):
                    state["armed"] = False
                    with registry.cursor() as other:
                        other_env = api.Environment(other, SUPERUSER_ID, {})
                        other_env["res.partner"].browse(partner.id).write(
                            {"phone": "+49 40 5550100"}
                        )
                    emit("INJECTED", partner.ref)
                    break
        try:
            return original_book(run, plans, move_data, context, stats)
        except Exception as error:
            emit("FAILURE", type(error).__name__, len(plans))
            raise

    booking.book = book
    return state


# ----------------------------------------------------------------------
# c1:nowfail: "Run now" whose transaction hits a database error at the end
# ----------------------------------------------------------------------
def failing_request(registry, company, as_of):
    """A "Run now" request (one transaction, no autocommit) in which a
    database error (a serialization failure, as a concurrent update of a
    customer would raise) occurs after the batches, in
    ``services.portal_blocking.retry_postponed_blocks``. Handled as Odoo's
    HTTP layer does: the exception propagates, the cursor is rolled back and
    closed, its connection goes back to the pool. Returns the outcome."""
    blocking = importlib.import_module("odoo.addons.isp_dunning.services.portal_blocking")
    original = blocking.retry_postponed_blocks

    def failing(run):
        run.env.cr.execute(
            "DO $$ BEGIN RAISE EXCEPTION 'isp_faults: injected database error' "
            "USING ERRCODE = 'serialization_failure'; END $$"
        )

    blocking.retry_postponed_blocks = failing
    try:
        with registry.cursor() as request_cr:
            env = api.Environment(request_cr, SUPERUSER_ID, {})
            run = (
                env["isp.dunning.run"]
                .with_company(company)
                .with_context(allowed_company_ids=[company.id])
                .run_dunning(date=dt.date.fromisoformat(as_of))
            )
            return run.state
    except Exception as error:  # noqa: BLE001 - the request's error page
        return f"raised:{type(error).__name__}"
    finally:
        blocking.retry_postponed_blocks = original


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=("company", "seed", "run", "work", "snapshot"))
    parser.add_argument("--db", required=True)
    parser.add_argument("--as-of", type=dt.date.fromisoformat)
    parser.add_argument("--customers", type=int, default=200)
    parser.add_argument("--plan", default="c1", help="comma-separated companies: c1,c2")
    parser.add_argument("--snapshot", help="write a snapshot after every run to this file")
    parser.add_argument("--wait-go", action="store_true")
    parser.add_argument("--date", help="run date (default: the book's as-of date)")
    parser.add_argument("--workers", type=int, help="set the companies' Parallel Workers first")
    parser.add_argument("--idle", type=float, default=120.0, help="work: seconds to wait for a run")
    args = parser.parse_args()
    registry = open_registry(args.db)
    if args.workers:
        set_workers(registry, args.workers)
    if args.command == "work":
        work(registry, args.wait_go, args.idle)
        return
    if args.command == "run":
        run_plan(registry, args.plan.split(","), args.snapshot, args.wait_go, args.date)
        return
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        if args.command == "company":
            setup_companies(env)
        elif args.command == "seed":
            seed(env, args.as_of, customers=args.customers)
        elif args.command == "snapshot":
            with open(args.snapshot, "w", encoding="utf-8") as handle:
                json.dump([snapshot(env)], handle, sort_keys=True, indent=1, default=str)


if __name__ == "__main__":
    main()
