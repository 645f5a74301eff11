"""Seed a realistic German ISP book into an Odoo 18 database (account +
l10n_de installed, nothing of the dunning products yet).

    python3 bench/seed.py --db isp_bench_book_1000 --open-invoices 1000 \
        --as-of 2026-11-26 --seed 42

What it builds (deterministic for a seed and an as-of date):

* customers: 85 % consumers (persons, de_DE), 15 % businesses (companies
  with a VAT id, a third of them with an invoice contact); 95 % have an
  email address, the others get letters;
* one tariff per customer (24.99 to 79.99 EUR gross, 19 % USt) billed
  monthly on the customer's billing day over the last MONTHS months, payment
  term 14 days net;
* payment behaviour per customer class (good / slow / defaulter), giving
  about 60 % paid, 10 % partly paid, 30 % open invoices; 2 % of invoices are
  cancelled by a credit note and 1 % of customers hold an open goodwill
  credit note;
* payments are bank-journal entries reconciled with their invoice, as a
  bank statement import leaves them.

Customers are added until the book holds ``--open-invoices`` open or partly
paid customer invoices.

How: the ORM creates, posts and reconciles one small template cluster per
tariff and outcome (invoice; invoice + payment; invoice + partial payment;
invoice + credit note; open credit note). SQL then clones the clusters for
every customer and month with set-based INSERT ... SELECT (new ids,
partners, dates shifted, sequence names continued per journal and year,
reconciliations remapped), and the ORM deletes the templates. ``validate``
then recomputes amount_residual, payment_state, reconciliation flags and
matching numbers with the ORM on a sample and compares them with what was
stored, checks that every move balances and that names are unique.
"""

import argparse
import datetime as dt
import json
import random
import sys
import time
from decimal import ROUND_HALF_UP, Decimal

from odoo_env import environment

TARIFFS_GROSS = ["24.99", "29.99", "34.99", "39.99", "44.99", "49.99", "59.99", "69.99", "79.99"]
CONSUMER_TARIFFS = TARIFFS_GROSS[:6]
BUSINESS_TARIFFS = TARIFFS_GROSS[3:]
KINDS = ("open", "paid", "partial", "reversed")
MONTHS = 6
PAY_LAG = 10  # days from invoice to payment
REFUND_LAG = 5
TERM_DAYS = 14
TEMPLATE_DATE = dt.date(2000, 1, 5)  # templates live in a year of their own
GOODWILL_GROSS = "10.00"

# class, share of customers, (paid, partly paid, open) per invoice
CLASSES = (
    ("good", 0.45, (0.90, 0.03)),
    ("slow", 0.35, (0.40, 0.20)),
    ("defaulter", 0.20, None),
)
FIRST_NAMES = (
    "Anna Lena Lukas Jonas Leon Finn Paul Emma Mia Hannah Sophie Marie Felix Elias Noah Ben "
    "Laura Julia Sarah Lisa Katrin Sabine Petra Monika Thomas Michael Andreas Stefan Jürgen "
    "Uwe Klaus Frank Bernd Heike Ursula Renate Gisela Wolfgang Dieter Manfred Helga Birgit"
).split()
LAST_NAMES = (
    "Müller Schmidt Schneider Fischer Weber Meyer Wagner Becker Schulz Hoffmann Schäfer Koch "
    "Bauer Richter Klein Wolf Schröder Neumann Schwarz Zimmermann Braun Krüger Hofmann Hartmann "
    "Lange Schmitt Werner Schmitz Krause Meier Lehmann Schmid Schulze Maier Köhler Herrmann "
    "König Walter Mayer Huber Kaiser Fuchs Peters Lang Scholz Möller Weiß Jung Hahn Vogel"
).split()
STREETS = (
    "Hauptstraße Schulstraße Gartenstraße Bahnhofstraße Dorfstraße Bergstraße Birkenweg "
    "Lindenstraße Kirchstraße Waldstraße Ringstraße Schillerstraße Goethestraße Am Markt"
).split()
CITIES = (
    ("20095", "Hamburg"),
    ("10115", "Berlin"),
    ("80331", "München"),
    ("50667", "Köln"),
    ("60311", "Frankfurt am Main"),
    ("70173", "Stuttgart"),
    ("40213", "Düsseldorf"),
    ("04109", "Leipzig"),
    ("28195", "Bremen"),
    ("30159", "Hannover"),
)
BUSINESS_FORMS = ("GmbH", "GmbH & Co. KG", "UG (haftungsbeschränkt)", "KG", "e.K.", "AG")
BUSINESS_WORDS = (
    "Bäckerei Elektro Malerbetrieb Steuerkanzlei Physiotherapie Autohaus Zahnarztpraxis "
    "Architekturbüro Blumen Dachdeckerei Tischlerei Fahrschule Optik Reisebüro"
).split()


def net_of(gross):
    return (Decimal(gross) / Decimal("1.19")).quantize(Decimal("0.01"), ROUND_HALF_UP)


def german_vat(rng):
    """A USt-IdNr with a valid check digit (ISO 7064, MOD 11,10)."""
    digits = [rng.randint(1, 9)] + [rng.randint(0, 9) for _i in range(7)]
    product = 10
    for digit in digits:
        total = (digit + product) % 10 or 10
        product = (2 * total) % 11
    check = (11 - product) % 10
    return "DE" + "".join(map(str, digits)) + str(check)


def month_dates(as_of, day, months):
    """The last ``months`` billing dates on ``day`` not after ``as_of``."""
    dates = []
    year, month = as_of.year, as_of.month
    while len(dates) < months:
        date = dt.date(year, month, day)
        if date <= as_of:
            dates.append(date)
        month -= 1
        if month == 0:
            year, month = year - 1, 12
    return sorted(dates)


# ----------------------------------------------------------------------
# The plan: pure Python, deterministic
# ----------------------------------------------------------------------
def pick_class(draw):
    for klass, share, probabilities in CLASSES:
        if draw < share:
            return klass, probabilities
        draw -= share
    return CLASSES[-1][0], CLASSES[-1][2]


def make_plan(open_invoices, as_of, seed, months=MONTHS):
    rng = random.Random(seed)
    customers = []
    clusters = []  # (customer index, template key, cluster date)
    counts = {"open": 0, "partial": 0, "paid": 0, "reversed": 0, "credit_notes": 0}
    index = 0
    while counts["open"] + counts["partial"] < open_invoices:
        index += 1
        business = rng.random() < 0.15
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        zip_code, city = rng.choice(CITIES)
        if business:
            name = f"{rng.choice(BUSINESS_WORDS)} {last} {rng.choice(BUSINESS_FORMS)}"
            tariff = rng.choice(BUSINESS_TARIFFS)
        else:
            name = f"{first} {last}"
            tariff = rng.choice(CONSUMER_TARIFFS)
        slug = f"{first}.{last}".lower().translate(str.maketrans("äöüß", "aous"))
        customer = {
            "ref": f"K-{index:07d}",
            "name": name,
            "business": business,
            "vat": german_vat(rng) if business else False,
            "email": f"{slug}.{index}@kunde.example" if rng.random() < 0.95 else False,
            "invoice_contact": business and rng.random() < 0.33,
            "street": f"{rng.choice(STREETS)} {rng.randint(1, 120)}",
            "zip": zip_code,
            "city": city,
        }
        customers.append(customer)
        klass, probabilities = pick_class(rng.random())
        dates = month_dates(as_of, rng.randint(1, 28), months)
        default_from = rng.randrange(months)
        for position, date in enumerate(dates):
            if klass == "defaulter":
                if position < default_from:
                    status = "paid"
                else:
                    status = "partial" if rng.random() < 0.1 else "open"
            else:
                paid, partial = probabilities
                roll = rng.random()
                status = "paid" if roll < paid else "partial" if roll < paid + partial else "open"
            if rng.random() < 0.02:
                status = "reversed"
            lag = REFUND_LAG if status == "reversed" else PAY_LAG
            if status != "open" and date + dt.timedelta(days=lag) > as_of:
                status = "open"  # the payment has not arrived yet
            counts[status] += 1
            clusters.append((index, (tariff, status), date))
        if rng.random() < 0.01:
            date = min(dates[-1] + dt.timedelta(days=3), as_of)
            clusters.append((index, ("goodwill", "credit"), date))
            counts["credit_notes"] += 1
    return customers, clusters, counts


# ----------------------------------------------------------------------
# ORM set-up and templates
# ----------------------------------------------------------------------
def setup_company(env):
    company = env.ref("base.main_company")
    journal = env["account.journal"].search(
        [("type", "=", "sale"), ("company_id", "=", company.id)], limit=1
    )
    bank = env["account.journal"].search(
        [("type", "=", "bank"), ("company_id", "=", company.id)], limit=1
    )
    tax = env["account.tax"].search(
        [
            ("type_tax_use", "=", "sale"),
            ("amount", "=", 19),
            ("price_include", "=", False),
            ("company_id", "=", company.id),
        ],
        limit=1,
    )
    term = env["account.payment.term"].create(
        {
            "name": "14 Tage netto",
            "line_ids": [(0, 0, {"value": "percent", "value_amount": 100, "nb_days": TERM_DAYS})],
        }
    )
    product = env["product.product"].create(
        {
            "name": "Internet-Anschluss (monatlich)",
            "type": "service",
            "taxes_id": [(6, 0, tax.ids)],
            "list_price": 0.0,
        }
    )
    if not (journal and bank and tax):
        raise SystemExit("The database lacks a sales journal, a bank journal or 19 % USt.")
    return company, journal, bank, tax, term, product


def make_templates(env, company, journal, bank, tax, term, product):
    """One posted, reconciled cluster per (tariff, outcome). Returns
    {key: [move ids, the invoice first]} and the template partner."""
    Move = env["account.move"].with_context(tracking_disable=True, mail_create_nolog=True)
    partner = env["res.partner"].create({"name": "Bench Template", "lang": "de_DE"})
    receivable = partner.property_account_receivable_id
    templates = {}
    t0 = TEMPLATE_DATE

    def invoice(gross, move_type="out_invoice", date=t0, label=None):
        move = Move.create(
            {
                "move_type": move_type,
                "partner_id": partner.id,
                "journal_id": journal.id,
                "invoice_date": date,
                "date": date,
                "invoice_payment_term_id": term.id,
                "invoice_line_ids": [
                    (
                        0,
                        0,
                        {
                            "product_id": product.id,
                            "name": label or f"Internet-Anschluss, Tarif {gross} EUR",
                            "quantity": 1,
                            "price_unit": float(net_of(gross)),
                            "tax_ids": [(6, 0, tax.ids)],
                        },
                    )
                ],
            }
        )
        move.action_post()
        return move

    def pay(move, amount):
        payment = Move.create(
            {
                "move_type": "entry",
                "journal_id": bank.id,
                "date": t0 + dt.timedelta(days=PAY_LAG),
                "ref": f"SEPA-Gutschrift {move.name}",
                "line_ids": [
                    (
                        0,
                        0,
                        {
                            "account_id": bank.default_account_id.id,
                            "debit": amount,
                            "name": f"Zahlung {move.name}",
                        },
                    ),
                    (
                        0,
                        0,
                        {
                            "account_id": receivable.id,
                            "partner_id": partner.id,
                            "credit": amount,
                            "name": f"Zahlung {move.name}",
                        },
                    ),
                ],
            }
        )
        payment.action_post()
        (move.line_ids + payment.line_ids).filtered(
            lambda line: line.account_id == receivable and not line.reconciled
        ).reconcile()
        return payment

    for gross in TARIFFS_GROSS:
        for kind in KINDS:
            move = invoice(gross)
            ids = [move.id]
            if kind == "paid":
                ids.append(pay(move, move.amount_total).id)
            elif kind == "partial":
                half = float(
                    (Decimal(str(move.amount_total)) / 2).quantize(Decimal("0.01"), ROUND_HALF_UP)
                )
                ids.append(pay(move, half).id)
            elif kind == "reversed":
                refund = move._reverse_moves(
                    [
                        {
                            "invoice_date": t0 + dt.timedelta(days=REFUND_LAG),
                            "date": t0 + dt.timedelta(days=REFUND_LAG),
                            "ref": f"Storno {move.name}",
                        }
                    ],
                    cancel=True,
                )
                ids.append(refund.id)
            templates[(gross, kind)] = ids
    credit = invoice(GOODWILL_GROSS, "out_refund", label="Gutschrift Kulanz (Störung)")
    templates[("goodwill", "credit")] = [credit.id]
    env.flush_all()
    for key, ids in templates.items():
        moves = env["account.move"].browse(ids)
        expected = {"open": "not_paid", "paid": "paid", "partial": "partial"}
        expected.update({"reversed": "reversed", "credit": "not_paid"})
        if moves[0].payment_state != expected[key[1]]:
            raise SystemExit(f"Template {key}: payment state {moves[0].payment_state}")
    return templates, partner


def create_partners(env, customers, batch=2000):
    Partner = env["res.partner"].with_context(
        tracking_disable=True, mail_create_nolog=True, mail_create_nosubscribe=True
    )
    country = env.ref("base.de").id
    ids = []
    for start in range(0, len(customers), batch):
        chunk = customers[start : start + batch]
        vals = []
        for customer in chunk:
            vals.append(
                {
                    "name": customer["name"],
                    "ref": customer["ref"],
                    "is_company": customer["business"],
                    "vat": customer["vat"],
                    "email": customer["email"],
                    "street": customer["street"],
                    "zip": customer["zip"],
                    "city": customer["city"],
                    "country_id": country,
                    "lang": "de_DE",
                    "customer_rank": 1,
                }
            )
        partners = Partner.create(vals)
        ids.extend(partners.ids)
        contacts = [
            {
                "parent_id": partner.id,
                "type": "invoice",
                "name": "Buchhaltung",
                "email": f"buchhaltung.{customer['ref'].lower()}@firma.example",
                "lang": "de_DE",
            }
            for partner, customer in zip(partners, chunk, strict=True)
            if customer["invoice_contact"]
        ]
        if contacts:
            Partner.create(contacts)
    env.flush_all()
    return ids


# ----------------------------------------------------------------------
# SQL cloning
# ----------------------------------------------------------------------
def _columns(cr, table):
    cr.execute(
        """
        SELECT column_name, data_type FROM information_schema.columns
         WHERE table_name = %s AND table_schema = current_schema()
         ORDER BY ordinal_position
        """,
        (table,),
    )
    return cr.fetchall()


def _partner_columns(env, model):
    return {
        name
        for name, field in env[model]._fields.items()
        if field.type == "many2one" and field.store and field.comodel_name == "res.partner"
    }


def _m2m_relations(env, model):
    rels = []
    for field in env[model]._fields.values():
        if field.type == "many2many" and field.store and field.relation:
            rels.append((field.relation, field.column1, field.column2))
    return sorted(set(rels))


def clone(env, templates, template_partner, partner_ids, clusters):
    """Copy the template clusters for every planned cluster, set-based."""
    cr = env.cr
    cr.execute("SET LOCAL work_mem = '256MB'")
    tpl_index = {key: number for number, key in enumerate(sorted(templates, key=str))}
    names = env["res.partner"].browse(partner_ids).read(["name"])
    partner_name = {row["id"]: row["name"] for row in names}
    cr.execute(
        "CREATE TEMP TABLE bench_tpl_move (tpl int, move_id int, is_main bool) ON COMMIT DROP"
    )
    rows = [
        (tpl_index[key], move_id, pos == 0)
        for key, ids in templates.items()
        for pos, move_id in enumerate(ids)
    ]
    cr.execute(
        "INSERT INTO bench_tpl_move SELECT * FROM unnest(%s::int[], %s::int[], %s::bool[])",
        ([r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows]),
    )
    cr.execute(
        """
        CREATE TEMP TABLE bench_plan (
            cluster int, tpl int, partner_id int, partner_name text, shift int
        ) ON COMMIT DROP
        """
    )
    plan_rows = []
    for number, (customer_index, key, date) in enumerate(clusters, start=1):
        pid = partner_ids[customer_index - 1]
        plan_rows.append(
            (number, tpl_index[key], pid, partner_name[pid], (date - TEMPLATE_DATE).days)
        )
    for start in range(0, len(plan_rows), 50000):
        chunk = plan_rows[start : start + 50000]
        cr.execute(
            """
            INSERT INTO bench_plan
            SELECT * FROM unnest(%s::int[], %s::int[], %s::int[], %s::text[], %s::int[])
            """,
            tuple([list(col) for col in zip(*chunk, strict=True)]),
        )
    cr.execute(
        """
        CREATE TEMP TABLE bench_move_map ON COMMIT DROP AS
        SELECT p.cluster, m.move_id AS old_id, m.is_main,
               nextval('account_move_id_seq')::int AS new_id,
               p.partner_id, p.partner_name, p.shift,
               am.journal_id, (am.date + p.shift) AS new_date, am.name AS old_name,
               length(am.name) - length(am.sequence_prefix) AS digits,
               regexp_replace(am.sequence_prefix, '\\d{4}',
                              to_char(am.date + p.shift, 'YYYY')) AS new_prefix,
               0 AS new_number, ''::varchar AS new_name
          FROM bench_plan p
          JOIN bench_tpl_move m ON m.tpl = p.tpl
          JOIN account_move am ON am.id = m.move_id
         ORDER BY p.cluster, m.move_id
        """
    )
    cr.execute(
        """
        WITH base AS (
            SELECT journal_id, sequence_prefix, max(sequence_number) AS mx
              FROM account_move GROUP BY 1, 2
        ), num AS (
            SELECT mm.new_id,
                   row_number() OVER (PARTITION BY mm.journal_id, mm.new_prefix
                                      ORDER BY mm.new_date, mm.new_id)
                   + COALESCE(b.mx, 0) AS n
              FROM bench_move_map mm
              LEFT JOIN base b ON b.journal_id = mm.journal_id
                              AND b.sequence_prefix = mm.new_prefix
        )
        UPDATE bench_move_map mm
           SET new_number = num.n,
               new_name = mm.new_prefix || lpad(num.n::text, greatest(mm.digits,
                                                 length(num.n::text)), '0')
          FROM num WHERE num.new_id = mm.new_id
        """
    )
    cr.execute("CREATE INDEX ON bench_move_map (cluster, old_id)")
    cr.execute("CREATE INDEX ON bench_move_map (new_id)")
    cr.execute(
        """
        CREATE TEMP TABLE bench_main ON COMMIT DROP AS
        SELECT cluster, old_name, new_name FROM bench_move_map WHERE is_main
        """
    )
    cr.execute("CREATE UNIQUE INDEX ON bench_main (cluster)")
    cr.execute("ANALYZE bench_move_map; ANALYZE bench_main")

    tp = int(template_partner.id)
    replaced_text = {"ref", "payment_reference", "invoice_origin", "name", "move_name"}
    renamed = "replace(replace({col}, mm.old_name, mm.new_name), bm.old_name, bm.new_name)"

    # account_move
    move_partner_cols = _partner_columns(env, "account.move")
    exprs = []
    cols = []
    for col, dtype in _columns(cr, "account_move"):
        cols.append(f'"{col}"')
        if col == "id":
            exprs.append("mm.new_id")
        elif col == "name":
            exprs.append("mm.new_name")
        elif col == "sequence_prefix":
            exprs.append("mm.new_prefix")
        elif col == "sequence_number":
            exprs.append("mm.new_number")
        elif col in ("create_date", "write_date"):
            exprs.append("(now() at time zone 'UTC')")
        elif col in ("access_token", "inalterable_hash", "secure_sequence_number"):
            exprs.append("NULL")
        elif col == "reversed_entry_id":
            exprs.append("rv.new_id")
        elif col == "invoice_partner_display_name":
            exprs.append(
                "CASE WHEN am.invoice_partner_display_name IS NULL THEN NULL "
                "ELSE mm.partner_name END"
            )
        elif col in move_partner_cols:
            exprs.append(f"CASE WHEN am.{col} = {tp} THEN mm.partner_id ELSE am.{col} END")
        elif dtype == "date":
            exprs.append(f"am.{col} + mm.shift")
        elif col in replaced_text and dtype in ("character varying", "text"):
            exprs.append(renamed.format(col=f"am.{col}"))
        else:
            exprs.append(f"am.{col}")
    cr.execute(
        f"""
        INSERT INTO account_move ({", ".join(cols)})
        SELECT {", ".join(exprs)}
          FROM bench_move_map mm
          JOIN account_move am ON am.id = mm.old_id
          JOIN bench_main bm ON bm.cluster = mm.cluster
          LEFT JOIN bench_move_map rv ON rv.cluster = mm.cluster
                                     AND rv.old_id = am.reversed_entry_id
        """
    )
    moves = cr.rowcount

    # full reconciles and lines
    cr.execute(
        """
        CREATE TEMP TABLE bench_line_map ON COMMIT DROP AS
        SELECT mm.cluster, l.id AS old_id, nextval('account_move_line_id_seq')::int AS new_id,
               mm.new_id AS new_move_id, l.full_reconcile_id AS old_full_id
          FROM bench_move_map mm
          JOIN account_move_line l ON l.move_id = mm.old_id
         ORDER BY mm.cluster, l.id
        """
    )
    cr.execute(
        """
        CREATE TEMP TABLE bench_full_map ON COMMIT DROP AS
        SELECT cluster, old_full_id AS old_id,
               nextval('account_full_reconcile_id_seq')::int AS new_id
          FROM (SELECT DISTINCT cluster, old_full_id FROM bench_line_map
                 WHERE old_full_id IS NOT NULL) f
        """
    )
    cr.execute("CREATE INDEX ON bench_line_map (cluster, old_id)")
    cr.execute("CREATE INDEX ON bench_full_map (cluster, old_id)")
    cr.execute("ANALYZE bench_line_map; ANALYZE bench_full_map")
    full_cols, full_exprs = [], []
    for col, _dtype in _columns(cr, "account_full_reconcile"):
        full_cols.append(f'"{col}"')
        if col == "id":
            full_exprs.append("fm.new_id")
        elif col in ("create_date", "write_date"):
            full_exprs.append("(now() at time zone 'UTC')")
        else:
            full_exprs.append(f"fr.{col}")
    cr.execute(
        f"""
        INSERT INTO account_full_reconcile ({", ".join(full_cols)})
        SELECT {", ".join(full_exprs)}
          FROM bench_full_map fm JOIN account_full_reconcile fr ON fr.id = fm.old_id
        """
    )

    line_partner_cols = _partner_columns(env, "account.move.line")
    cols, exprs = [], []
    for col, dtype in _columns(cr, "account_move_line"):
        cols.append(f'"{col}"')
        if col == "id":
            exprs.append("lm.new_id")
        elif col == "move_id":
            exprs.append("lm.new_move_id")
        elif col == "full_reconcile_id":
            exprs.append("fm.new_id")
        elif col == "matching_number":
            # full: the full reconcile's id; partial: set below from the partial
            exprs.append(
                "CASE WHEN fm.new_id IS NOT NULL THEN fm.new_id::varchar ELSE l.matching_number END"
            )
        elif col in ("create_date", "write_date"):
            exprs.append("(now() at time zone 'UTC')")
        elif col in line_partner_cols:
            exprs.append(f"CASE WHEN l.{col} = {tp} THEN mm.partner_id ELSE l.{col} END")
        elif dtype == "date":
            exprs.append(f"l.{col} + mm.shift")
        elif col in replaced_text and dtype in ("character varying", "text"):
            exprs.append(renamed.format(col=f"l.{col}"))
        else:
            exprs.append(f"l.{col}")
    cr.execute(
        f"""
        INSERT INTO account_move_line ({", ".join(cols)})
        SELECT {", ".join(exprs)}
          FROM bench_line_map lm
          JOIN account_move_line l ON l.id = lm.old_id
          JOIN bench_move_map mm ON mm.new_id = lm.new_move_id
          JOIN bench_main bm ON bm.cluster = mm.cluster
          LEFT JOIN bench_full_map fm ON fm.cluster = lm.cluster AND fm.old_id = l.full_reconcile_id
        """
    )
    lines = cr.rowcount

    # partial reconciles
    cols, exprs = [], []
    for col, dtype in _columns(cr, "account_partial_reconcile"):
        cols.append(f'"{col}"')
        if col == "id":
            exprs.append("nextval('account_partial_reconcile_id_seq')")
        elif col == "debit_move_id":
            exprs.append("dm.new_id")
        elif col == "credit_move_id":
            exprs.append("cm.new_id")
        elif col == "full_reconcile_id":
            exprs.append("fm.new_id")
        elif col in ("create_date", "write_date"):
            exprs.append("(now() at time zone 'UTC')")
        elif dtype == "date":
            exprs.append(f"pr.{col} + bp.shift")
        else:
            exprs.append(f"pr.{col}")
    cr.execute("CREATE INDEX ON bench_plan (cluster)")
    cr.execute(
        f"""
        INSERT INTO account_partial_reconcile ({", ".join(cols)})
        SELECT {", ".join(exprs)}
          FROM account_partial_reconcile pr
          JOIN bench_line_map dm ON dm.old_id = pr.debit_move_id
          JOIN bench_line_map cm ON cm.old_id = pr.credit_move_id AND cm.cluster = dm.cluster
          JOIN bench_plan bp ON bp.cluster = dm.cluster
          LEFT JOIN bench_full_map fm ON fm.cluster = dm.cluster
                                     AND fm.old_id = pr.full_reconcile_id
        """
    )
    partials = cr.rowcount
    cr.execute(
        """
        WITH p AS (
            SELECT line_id, min(id) AS pid FROM (
                SELECT debit_move_id AS line_id, id FROM account_partial_reconcile
                UNION ALL
                SELECT credit_move_id, id FROM account_partial_reconcile) s
             GROUP BY line_id
        )
        UPDATE account_move_line l SET matching_number = 'P' || p.pid
          FROM bench_line_map lm, p
         WHERE l.id = lm.new_id AND p.line_id = l.id AND l.matching_number LIKE 'P%%'
        """
    )

    # many2many rows of moves and lines (taxes, tax tags, ...)
    for model, table in (
        ("account.move", "bench_move_map"),
        ("account.move.line", "bench_line_map"),
    ):
        for relation, column1, column2 in _m2m_relations(env, model):
            cr.execute(
                f"""
                INSERT INTO "{relation}" ("{column1}", "{column2}")
                SELECT DISTINCT m.new_id, r."{column2}"
                  FROM "{relation}" r JOIN {table} m ON m.old_id = r."{column1}"
                ON CONFLICT DO NOTHING
                """
            )
    return {"moves": moves, "lines": lines, "partials": partials}


def delete_templates(env, templates, partner):
    """Remove the template clusters. They are synthetic documents dated in
    2000 that were never part of the book; the German audit trail forbids
    deleting their log messages through the ORM, so SQL removes them."""
    env.flush_all()
    cr = env.cr
    move_ids = [i for ids in templates.values() for i in ids]
    cr.execute("SELECT id FROM account_move_line WHERE move_id = ANY(%s)", (move_ids,))
    line_ids = [row[0] for row in cr.fetchall()]
    cr.execute(
        "SELECT DISTINCT full_reconcile_id FROM account_move_line "
        "WHERE id = ANY(%s) AND full_reconcile_id IS NOT NULL",
        (line_ids,),
    )
    full_ids = [row[0] for row in cr.fetchall()]
    cr.execute(
        "DELETE FROM account_partial_reconcile WHERE debit_move_id = ANY(%s) "
        "OR credit_move_id = ANY(%s)",
        (line_ids, line_ids),
    )
    cr.execute("UPDATE account_move SET reversed_entry_id = NULL WHERE id = ANY(%s)", (move_ids,))
    cr.execute("DELETE FROM account_move_line WHERE id = ANY(%s)", (line_ids,))
    cr.execute("DELETE FROM account_full_reconcile WHERE id = ANY(%s)", (full_ids,))
    for table, column in (("mail_message", "model"), ("mail_followers", "res_model")):
        cr.execute(
            f"DELETE FROM {table} WHERE {column} = 'account.move' AND res_id = ANY(%s)",
            (move_ids,),
        )
    cr.execute("DELETE FROM account_move WHERE id = ANY(%s)", (move_ids,))
    env.invalidate_all()
    partner.unlink()


# ----------------------------------------------------------------------
# Validation with the ORM
# ----------------------------------------------------------------------
MOVE_FIELDS = ("amount_total", "amount_residual", "amount_residual_signed", "payment_state")
LINE_FIELDS = ("amount_residual", "amount_residual_currency", "reconciled", "matching_number")


def validate(env, sample=300, seed=1):
    """Recompute stored values with the ORM on a sample and compare."""
    cr = env.cr
    problems = []
    cr.execute(
        """
        SELECT move_id FROM account_move_line GROUP BY move_id
        HAVING abs(sum(balance)) > 0.001 OR abs(sum(debit) - sum(credit)) > 0.001
        """
    )
    unbalanced = cr.fetchall()
    if unbalanced:
        problems.append(f"{len(unbalanced)} unbalanced moves")
    cr.execute(
        """
        SELECT count(*) FROM (SELECT name, journal_id FROM account_move WHERE state = 'posted'
         GROUP BY 1, 2 HAVING count(*) > 1) d
        """
    )
    if cr.fetchone()[0]:
        problems.append("duplicate move names")
    Move = env["account.move"]
    ids = Move.search([("move_type", "in", ("out_invoice", "out_refund"))]).ids
    rng = random.Random(seed)
    picked = Move.browse(sorted(rng.sample(ids, min(sample, len(ids)))))
    lines = picked.line_ids
    counterparts = lines.matched_debit_ids.debit_move_id | lines.matched_credit_ids.credit_move_id
    lines |= counterparts
    stored_moves = {m["id"]: m for m in picked.read(list(MOVE_FIELDS) + ["state"])}
    stored_lines = {line["id"]: line for line in lines.read(list(LINE_FIELDS))}
    # Recompute from the journal items and reconciliations.
    env.invalidate_all()
    lines._compute_amount_residual()
    picked._compute_amount()
    picked._compute_payment_state()
    for move in picked:
        if move.state != "posted":
            problems.append(f"{move.name} not posted")
        for fname in MOVE_FIELDS:
            if move[fname] != stored_moves[move.id][fname]:
                problems.append(
                    f"{move.name}.{fname}: stored {stored_moves[move.id][fname]!r}, "
                    f"ORM {move[fname]!r}"
                )
        receivable = move.line_ids.filtered(
            lambda line: line.account_id.account_type == "asset_receivable"
        )
        if len(receivable) != 1 or receivable.partner_id != move.commercial_partner_id:
            problems.append(f"{move.name}: receivable line")
        if move.move_type == "out_invoice" and receivable.date_maturity != (
            move.invoice_date + dt.timedelta(days=TERM_DAYS)
        ):
            problems.append(f"{move.name}: due date")
    for line in lines:
        for fname in LINE_FIELDS[:3]:
            if line[fname] != stored_lines[line.id][fname]:
                problems.append(f"line {line.id}.{fname}: stored/ORM differ")
    lines._constrains_matching_number()
    picked._check_balanced({"records": picked})
    env.cr.rollback()
    counts = dict(
        Move._read_group(
            [("move_type", "=", "out_invoice"), ("state", "=", "posted")],
            ["payment_state"],
            ["__count"],
        )
    )
    return problems, counts, len(picked), len(lines)


# ----------------------------------------------------------------------
def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--open-invoices", type=int, default=1000)
    parser.add_argument("--as-of", default=dt.date.today().isoformat())
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--months", type=int, default=MONTHS)
    parser.add_argument("--validate-only", action="store_true")
    args = parser.parse_args(argv)
    as_of = dt.date.fromisoformat(args.as_of)
    started = time.monotonic()
    if not args.validate_only:
        customers, clusters, counts = make_plan(args.open_invoices, as_of, args.seed, args.months)
        print(f"plan: {len(customers)} customers, {len(clusters)} documents, {counts}", flush=True)
        with environment(args.db) as env:
            company, journal, bank, tax, term, product = setup_company(env)
            templates, tpl_partner = make_templates(env, company, journal, bank, tax, term, product)
            t = time.monotonic()
            partner_ids = create_partners(env, customers)
            print(f"partners: {len(partner_ids)} in {time.monotonic() - t:.1f}s", flush=True)
            t = time.monotonic()
            stats = clone(env, templates, tpl_partner, partner_ids, clusters)
            print(f"cloned: {stats} in {time.monotonic() - t:.1f}s", flush=True)
            env.invalidate_all()
            delete_templates(env, templates, tpl_partner)
            env["ir.config_parameter"].set_param(
                "isp_bench.book",
                json.dumps(
                    {
                        "as_of": args.as_of,
                        "seed": args.seed,
                        "months": args.months,
                        "customers": len(customers),
                        "documents": len(clusters),
                        "counts": counts,
                        "open_invoices": counts["open"] + counts["partial"],
                    }
                ),
            )
            env.cr.commit()
            env.cr.execute("ANALYZE")
    with environment(args.db) as env:
        problems, counts, n_moves, n_lines = validate(env)
    print(f"validated {n_moves} documents / {n_lines} journal items; invoices by state: {counts}")
    print(f"seed done in {time.monotonic() - started:.1f}s")
    if problems:
        print("VALIDATION FAILED:\n  " + "\n  ".join(problems[:40]))
        return 1
    print("validation OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
