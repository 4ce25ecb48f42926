"""The ``opsdesk`` command: Django's management commands with opsdesk's settings.

``opsdesk run`` (what ``make run`` calls), ``serve``, ``worker``, ``demo``, ``token`` and every
Django command (``migrate``, ``createsuperuser``, ``shell`` ...).
"""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opsdesk.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["opsdesk", *sys.argv[1:]])


if __name__ == "__main__":
    main()
