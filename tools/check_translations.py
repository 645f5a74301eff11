"""Check that a translation covers every term of a fresh export.

Usage: python3 tools/check_translations.py EXPORT.pot TRANSLATION.po

EXPORT.pot is what ``odoo --i18n-export`` writes for the installed module
(code strings, field labels, selection values, view and report texts).
Exits 1 and lists the terms that TRANSLATION.po lacks or leaves empty.
"""

import sys

import polib


def missing_terms(export_path, translation_path):
    translated = {
        (entry.msgctxt, entry.msgid)
        for entry in polib.pofile(translation_path)
        if entry.msgstr and not entry.obsolete and "fuzzy" not in entry.flags
    }
    return [
        entry.msgid
        for entry in polib.pofile(export_path)
        if entry.msgid and (entry.msgctxt, entry.msgid) not in translated
    ]


def main(argv):
    if len(argv) != 3:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    missing = missing_terms(argv[1], argv[2])
    for msgid in missing:
        print(f"untranslated: {msgid!r}")
    print(f"{len(missing)} untranslated term(s) in {argv[2]}")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
