# Odoo shell script (stdin of `odoo shell`): makes the main company the
# German ISP of the demo and the benchmark, before the chart is installed.
company = env.ref("base.main_company")  # noqa: F821 - the shell's env
company.write(
    {
        "name": "Muster Netz GmbH",
        "street": "Glasfaserweg 1",
        "zip": "20095",
        "city": "Hamburg",
        "country_id": env.ref("base.de").id,  # noqa: F821
        "currency_id": env.ref("base.EUR").id,  # noqa: F821
        "email": "buchhaltung@muster-netz.example",
        "phone": "+49 40 1234567",
        "vat": "DE811907980",
    }
)
env.ref("base.user_admin").write({"lang": "de_DE", "tz": "Europe/Berlin"})  # noqa: F821
env.cr.commit()  # noqa: F821
