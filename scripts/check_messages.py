"""Fail when the zh-Hans catalogue is incomplete or its compiled .mo is stale.

Every user-visible string must be translated (Chinese first); run `make messages`, translate the
new entries in opsdesk/locale/zh_Hans/LC_MESSAGES/django.po, then `make messages` again.
"""

import sys
from pathlib import Path

import polib

LOCALE = Path(__file__).resolve().parent.parent / "opsdesk" / "locale" / "zh_Hans" / "LC_MESSAGES"


def main() -> int:
    po = polib.pofile(str(LOCALE / "django.po"))
    mo = {entry.msgid: entry.msgstr for entry in polib.mofile(str(LOCALE / "django.mo"))}
    problems = [f"untranslated: {e.msgid!r}" for e in po if not e.translated() and not e.obsolete]
    problems += [f"fuzzy: {e.msgid!r}" for e in po.fuzzy_entries()]
    problems += [
        f"not compiled: {e.msgid!r}"
        for e in po.translated_entries()
        if "fuzzy" not in e.flags and not e.msgid_plural and mo.get(e.msgid) != e.msgstr
    ]
    for problem in problems:
        print(f"zh_Hans catalogue: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
