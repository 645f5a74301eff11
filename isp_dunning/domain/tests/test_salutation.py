import pytest
from domain.salutation import FEMALE, MALE, salutation


@pytest.mark.parametrize(
    ("name", "is_company", "lang", "gender", "expected"),
    [
        ("Firma GmbH", True, "de_DE", None, "Sehr geehrte Damen und Herren,"),
        # A company is never greeted by name, even with a title set.
        ("Firma GmbH", True, "de_DE", MALE, "Sehr geehrte Damen und Herren,"),
        ("Erika Mustermann", False, "de_DE", FEMALE, "Sehr geehrte Frau Erika Mustermann,"),
        ("Max Mustermann", False, "de_DE", MALE, "Sehr geehrter Herr Max Mustermann,"),
        ("Kim Weber", False, "de_DE", None, "Guten Tag Kim Weber,"),
        ("Kim Weber", False, "de_CH", "unknown", "Guten Tag Kim Weber,"),
        # No name to address: the neutral formula.
        ("", False, "de_DE", FEMALE, "Sehr geehrte Damen und Herren,"),
        ("   ", False, "de_DE", None, "Sehr geehrte Damen und Herren,"),
        (None, False, "de_DE", None, "Sehr geehrte Damen und Herren,"),
        # Whitespace in the name is normalised.
        ("  Max \n Mustermann ", False, "de_DE", None, "Guten Tag Max Mustermann,"),
        ("Firma GmbH", True, "en_US", None, "Dear Sir or Madam,"),
        ("Erika Mustermann", False, "en_US", FEMALE, "Dear Ms Erika Mustermann,"),
        ("Max Mustermann", False, "en_GB", MALE, "Dear Mr Max Mustermann,"),
        ("Kim Weber", False, "en_US", None, "Dear Kim Weber,"),
        # Languages without own forms, and no language: English.
        ("Kim Weber", False, "fr_FR", None, "Dear Kim Weber,"),
        ("Kim Weber", False, None, None, "Dear Kim Weber,"),
        ("", False, None, None, "Dear Sir or Madam,"),
    ],
)
def test_salutation(name, is_company, lang, gender, expected):
    assert salutation(name, is_company, lang, gender) == expected
