"""The German ISP of the demo, the benchmark and the fault trials.

Run as an Odoo shell script (stdin of ``odoo shell``) it makes the main
company that ISP, before the chart is installed; ``faults/worker.py``
imports ``make_german_isp``.
"""

GERMAN_ISP = {
    "name": "Muster Netz GmbH",
    "street": "Glasfaserweg 1",
    "zip": "20095",
    "city": "Hamburg",
    "email": "buchhaltung@muster-netz.example",
    "phone": "+49 40 1234567",
    "vat": "DE811907980",
}


def make_german_isp(env):
    company = env.ref("base.main_company")
    company.write(
        {
            **GERMAN_ISP,
            "country_id": env.ref("base.de").id,
            "currency_id": env.ref("base.EUR").id,
        }
    )
    env.ref("base.user_admin").write({"lang": "de_DE", "tz": "Europe/Berlin"})
    return company


if "env" in globals():  # run by `odoo shell`
    make_german_isp(env)  # noqa: F821 - the shell's env
    env.cr.commit()  # noqa: F821
