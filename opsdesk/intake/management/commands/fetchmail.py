"""``opsdesk fetchmail``: fetch the waiting mail of the IMAP mailbox configured by the
OPSDESK_IMAP_* settings once (the worker does it every OPSDESK_IMAP_POLL_SECONDS)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from opsdesk.intake.mail import imap


class Command(BaseCommand):
    help = "Fetch the waiting mail of the configured IMAP mailbox into tickets, once."

    def handle(self, *args: Any, **options: Any) -> None:
        account = imap.configured_account()
        if account is None:
            raise CommandError(_("No IMAP mailbox is configured: set OPSDESK_IMAP_HOST, "
                                 "OPSDESK_IMAP_USER and OPSDESK_IMAP_PASSWORD."))
        try:
            counts = imap.fetch_mail(account)
        except Exception as error:
            raise CommandError(_("Fetching mail from %(account)r failed: %(error)s")
                               % {"account": account, "error": type(error).__name__}) from error
        total = sum(counts.values())
        self.stdout.write(_("%(total)d messages: %(counts)s") % {
            "total": total,
            "counts": ", ".join(f"{status} {n}" for status, n in sorted(counts.items())) or "-",
        })
