"""``opsdesk import EXPORT.csv --from jira|zentao``: bring another tracker's history in.

Exit status: 0 when every row was imported (or had been before); 2 when some rows were
refused (the others were imported, the report says why for each); 1 when nothing could be
imported (the file, its encoding, its columns or the mapping file).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from opsdesk.imports.mapping import MappingError, load
from opsdesk.imports.plan import prepare
from opsdesk.imports.reading import ENCODINGS, UnreadableFile, decode, read_table
from opsdesk.imports.report import lines
from opsdesk.imports.services import BATCH, import_plan
from opsdesk.imports.sources import SOURCES

SOME_REFUSED = 2


class Command(BaseCommand):
    help = ("Import tickets from a CSV export of Jira or ZenTao (禅道): statuses, priorities, "
            "people, dates and comments mapped to opsdesk's, every refused row reported with "
            "its reason. Issues imported before are skipped, so running it again is safe.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("export", help="the CSV file the tracker exported")
        parser.add_argument("--from", dest="system", required=True, choices=sorted(SOURCES),
                            help="the tracker that wrote it")
        parser.add_argument("--mapping", help="a TOML file that changes the default mapping")
        parser.add_argument("--dry-run", action="store_true",
                            help="read, map and check everything and report what would be "
                                 "created, writing nothing")
        parser.add_argument("--encoding", choices=ENCODINGS, default="auto",
                            help="the file's encoding (default: UTF-8, else GBK)")
        parser.add_argument("--batch", type=int, default=BATCH,
                            help=f"tickets per transaction (default {BATCH})")

    def handle(self, *args: Any, export: str, system: str, mapping: str | None,
               dry_run: bool, encoding: str, batch: int, **options: Any) -> None:
        if batch < 1:
            raise CommandError(_("--batch must be at least 1."))
        source = SOURCES[system]
        path = Path(export)
        try:
            rules = load(source=source, path=Path(mapping) if mapping else None)
            raw = path.read_bytes()
            text, used = decode(raw, encoding)
            plan = prepare(table=read_table(text), source=source, mapping=rules,
                           file_name=path.name, encoding=used)
        except OSError as error:
            raise CommandError(_("%(file)s cannot be read: %(error)s")
                               % {"file": export, "error": error.strerror}) from error
        except (UnreadableFile, MappingError) as error:
            raise CommandError(str(error)) from error
        if dry_run:
            created, refusals, skipped = plan.drafts, plan.refusals, 0
        else:
            show = options["verbosity"] > 0
            outcome = import_plan(plan=plan, batch=batch,
                                  progress=self._progress if show else None)
            created, skipped = outcome.created, outcome.skipped
            refusals = plan.refusals + outcome.refusals
        for line in lines(plan=plan, created=created, refusals=refusals, skipped=skipped,
                          dry_run=dry_run):
            self.stdout.write(line)
        if dry_run:
            self.stdout.write(_("Dry run: nothing was written."))
        if refusals:
            raise CommandError(ngettext("%(count)s row was refused.",
                                        "%(count)s rows were refused.", len(refusals))
                               % {"count": f"{len(refusals):,}"}, returncode=SOME_REFUSED)

    def _progress(self, done: int, total: int) -> None:
        """``  4,200 / 10,000 tickets`` on stderr: rewritten in place on a terminal, a line
        per batch in a log."""
        text = "  " + _("%(done)s / %(total)s tickets") % {"done": f"{done:,}",
                                                           "total": f"{total:,}"}
        if self.stderr.isatty():
            self.stderr.write("\r" + text, style_func=_plain,
                              ending="\n" if done == total else "")
            self.stderr.flush()
        else:
            self.stderr.write(text, style_func=_plain)


def _plain(text: str) -> str:
    """Progress is not an error: stderr's red is not for it."""
    return text
