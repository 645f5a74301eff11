"""How a notice reaches the customer."""

EMAIL = "email"
EMAIL_LETTER = "email_letter"
LETTER = "letter"


def choose_channel(send_email, send_letter, email):
    """The channel of a notice from its level's switches and the customer's
    address: email (with a letter too when the level sends both) when the
    level emails and there is an address, else a letter, the fallback of a
    customer without an email address."""
    if send_email and email:
        return EMAIL_LETTER if send_letter else EMAIL
    return LETTER


def initial_state(channel):
    """A new notice waits to be sent, or to be printed when it goes by post only."""
    return "to_print" if channel == LETTER else "to_send"
