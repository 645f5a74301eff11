import pytest
from domain.channels import EMAIL, EMAIL_LETTER, LETTER, choose_channel, initial_state


@pytest.mark.parametrize(
    ("send_email", "send_letter", "email", "expected"),
    [
        (True, False, "a@example.com", EMAIL),
        (True, True, "a@example.com", EMAIL_LETTER),
        (True, False, "", LETTER),
        (True, True, None, LETTER),
        (False, True, "a@example.com", LETTER),
        (False, False, "a@example.com", LETTER),
        (False, False, None, LETTER),
    ],
)
def test_choose_channel(send_email, send_letter, email, expected):
    assert choose_channel(send_email, send_letter, email) == expected


def test_initial_state():
    assert initial_state(EMAIL) == "to_send"
    assert initial_state(EMAIL_LETTER) == "to_send"
    assert initial_state(LETTER) == "to_print"
