import pytest
from domain.emails import parse_email_list


@pytest.mark.parametrize("text", [None, "", "   ", "\n", " ; , ", False])
def test_empty(text):
    assert parse_email_list(text) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("fall@inkasso.de", ["fall@inkasso.de"]),
        ("  fall@inkasso.de  ", ["fall@inkasso.de"]),
        ("a@x.de,b@y.de", ["a@x.de", "b@y.de"]),
        ("a@x.de; b@y.de", ["a@x.de", "b@y.de"]),
        ("a@x.de\nb@y.de\r\nc@z.de", ["a@x.de", "b@y.de", "c@z.de"]),
        ("a@x.de;;\n,b@y.de,", ["a@x.de", "b@y.de"]),
        ("Inkasso GmbH <fall@inkasso.de>", ["fall@inkasso.de"]),
        ("<fall@inkasso.de>", ["fall@inkasso.de"]),
        ('"Müller, Hans" <h.mueller@example.de>', ["h.mueller@example.de"]),
        (
            'Inkasso GmbH <fall@inkasso.de>; "Buchhaltung; Nord" <nord@x.de>, c@y.de',
            ["fall@inkasso.de", "nord@x.de", "c@y.de"],
        ),
        ("Fall@Inkasso.DE", ["Fall@inkasso.de"]),  # domain is case-insensitive
        ("a@x.de, A@X.DE, a@x.de", ["a@x.de"]),  # duplicates dropped
        (
            "first.last+dunning@sub.example.co.uk",
            ["first.last+dunning@sub.example.co.uk"],
        ),
        ("o'brien@example.ie", ["o'brien@example.ie"]),
        ("info@müller-bau.de", ["info@müller-bau.de"]),
        ("info@xn--mller-bau-q9a.de", ["info@xn--mller-bau-q9a.de"]),
        ("a@b.xn--p1ai", ["a@b.xn--p1ai"]),
    ],
)
def test_valid(text, expected):
    assert parse_email_list(text) == expected


@pytest.mark.parametrize(
    ("text", "bad"),
    [
        ("xyz", "xyz"),
        ("a@x.de, xyz", "xyz"),
        ("a@x.de; b@; c@", "b@"),
        ("a b@x.de", "a b@x.de"),
        ("a@x", "a@x"),
        ("a@x.d", "a@x.d"),
        ("@x.de", "@x.de"),
        ("a@@x.de", "a@@x.de"),
        ("a@x..de", "a@x..de"),
        ("a@-x.de", "a@-x.de"),
        ("a@x-.de", "a@x-.de"),
        (".a@x.de", ".a@x.de"),
        ("a.@x.de", "a.@x.de"),
        ("a..b@x.de", "a..b@x.de"),
        ("Name <a@x.de", "Name <a@x.de"),
        ("Name a@x.de>", "Name a@x.de>"),
        ("Name <a@x.de> trailing", "Name <a@x.de> trailing"),
        ("Name <>", "Name <>"),
        ("a@x.de@y.de", "a@x.de@y.de"),
        ("a@x.123", "a@x.123"),
    ],
)
def test_invalid_names_the_first_bad_piece(text, bad):
    with pytest.raises(ValueError) as info:
        parse_email_list(text)
    assert str(info.value) == f"{bad!r} is not a valid email address"
