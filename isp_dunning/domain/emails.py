"""Parsing of configurable recipient lists (e.g. collection agency, CC)."""

import re

_LOCAL = r"[^\s@<>()\[\]\\,;:\"]+"
_LABEL = r"[^\W_](?:[\w-]*[^\W_])?"
_TLD = r"(?:[^\W\d_]{2,63}|xn--[a-z0-9-]+)"
_EMAIL = re.compile(rf"{_LOCAL}@(?:{_LABEL}\.)+{_TLD}", re.IGNORECASE)
_NAMED = re.compile(r"^(?:\"[^\"]*\"|[^<>\"]*)\s*<([^<>]*)>$")


def _split(text: str) -> list[str]:
    """Split on , ; and newlines, except inside quotes or <...>."""
    pieces, current = [], []
    quoted = bracket = False
    for char in text:
        if char == '"' and not bracket:
            quoted = not quoted
        elif char == "<" and not quoted:
            bracket = True
        elif char == ">" and not quoted:
            bracket = False
        elif char in ",;\r\n" and not quoted and not bracket:
            pieces.append("".join(current))
            current = []
            continue
        current.append(char)
    pieces.append("".join(current))
    return [piece.strip() for piece in pieces if piece.strip()]


def _valid(address: str) -> bool:
    if not _EMAIL.fullmatch(address):
        return False
    local = address.rsplit("@", 1)[0]
    return not (local.startswith(".") or local.endswith(".") or ".." in local)


def parse_email_list(text) -> list[str]:
    """'a@x.de; Inkasso GmbH <fall@inkasso.de>' -> ['a@x.de', 'fall@inkasso.de'].

    Domains are lower-cased and repeated addresses dropped (first wins).
    """
    if not text:
        return []
    result: list[str] = []
    seen: set[str] = set()
    for piece in _split(str(text)):
        named = _NAMED.match(piece)
        address = (named.group(1) if named else piece).strip()
        if not _valid(address):
            raise ValueError(f"{piece!r} is not a valid email address")
        local, domain = address.rsplit("@", 1)
        address = f"{local}@{domain.lower()}"
        if address.lower() not in seen:
            seen.add(address.lower())
            result.append(address)
    return result
