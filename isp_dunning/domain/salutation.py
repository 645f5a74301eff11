"""The salutation of a letter, from the kind of addressee.

A company (or an addressee without a name) is greeted with the neutral
formula; a person by name, in the gendered form when the contact's title
says which one (Frau / Herr), else with the neutral "Guten Tag <name>,".
"""

FEMALE = "female"
MALE = "male"

_FORMS = {
    "de": {
        "company": "Sehr geehrte Damen und Herren,",
        FEMALE: "Sehr geehrte Frau {name},",
        MALE: "Sehr geehrter Herr {name},",
        None: "Guten Tag {name},",
    },
    "en": {
        "company": "Dear Sir or Madam,",
        FEMALE: "Dear Ms {name},",
        MALE: "Dear Mr {name},",
        None: "Dear {name},",
    },
}


def salutation(name, is_company, lang, gender=None):
    """The salutation line of a letter.

    :param name: the addressee's name (a person's full name)
    :param is_company: whether the addressee is a company
    :param lang: language code, e.g. ``de_DE``; German for ``de*``, else English
    :param gender: ``FEMALE``, ``MALE`` or None when unknown
    """
    forms = _FORMS["de" if (lang or "").lower().startswith("de") else "en"]
    name = " ".join((name or "").split())
    if is_company or not name:
        return forms["company"]
    return forms[gender if gender in (FEMALE, MALE) else None].format(name=name)
