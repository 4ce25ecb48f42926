"""``opsdesk mailgate``: take one message on standard input from a mail server (a pipe
transport, a .forward or an aliases entry), or many with ``--batch`` (a folder of messages or
an mbox file).

Exit status for mail servers (sysexits): 0 once the message is stored, whatever becomes of it
(quarantined and failed messages are kept for replay); 65 when it is refused (too large, empty),
so the server bounces it naming the problem; 75 when it could not be stored (the database is
unreachable), so the server keeps it and tries again. With ``--batch`` nobody can be answered
per message: one too large is quarantined with its head, and the import goes on.
"""

from __future__ import annotations

import sys
import time
from typing import IO, Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError
from django.utils.translation import gettext as _

from opsdesk.intake.mail import batch
from opsdesk.intake.mail import services as mail
from opsdesk.tickets.storage import file_size

EX_DATAERR = 65
EX_TEMPFAIL = 75


class Command(BaseCommand):
    help = "Turn a message on standard input (or a folder or mbox with --batch) into tickets."
    stealth_options = ("stdin",)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch", metavar="DIR_OR_MBOX", nargs="+",
                            help="Import every message of these folders or mbox files.")
        parser.add_argument("--jobs", type=int, default=1,
                            help="Worker processes for --batch (on PostgreSQL, up to one per "
                                 "core; SQLite has one writer at a time).")
        parser.add_argument("--source", default="mailgate",
                            help="Where the message came from, recorded with it.")

    def handle(self, *args: Any, batch: list[str] | None, source: str, jobs: int,
               **options: Any) -> None:
        if batch:
            self._import(batch, source, jobs)
            return
        stdin: IO[bytes] = options.get("stdin") or sys.stdin.buffer
        raw = stdin.read(settings.OPSDESK_MAIL_MAX_BYTES + 1)
        if len(raw) > settings.OPSDESK_MAIL_MAX_BYTES:
            raise CommandError(_("The message is larger than %(limit)s.")
                               % {"limit": file_size(settings.OPSDESK_MAIL_MAX_BYTES)
                                  .replace("\xa0", " ")},
                               returncode=EX_DATAERR)
        if not raw.strip():
            raise CommandError(_("The message is empty."), returncode=EX_DATAERR)
        try:
            delivered = mail.receive(raw=raw, source=source)
        except DatabaseError as error:
            raise CommandError(_("The message could not be stored: %s") % error,
                               returncode=EX_TEMPFAIL) from error
        self.stdout.write(f"#{delivered.message.pk} {delivered.status} {delivered.result}")

    def _import(self, paths: list[str], source: str, jobs: int) -> None:
        started = time.perf_counter()
        counts = batch.import_paths(paths, source=source, jobs=jobs)
        elapsed = time.perf_counter() - started
        total = sum(counts.values())
        self.stdout.write(
            _("%(total)d messages in %(seconds).1f s (%(rate).0f/s): %(counts)s")
            % {"total": total, "seconds": elapsed, "rate": total / elapsed if elapsed else 0,
               "counts": ", ".join(f"{status} {n}" for status, n in sorted(counts.items()))}
        )
