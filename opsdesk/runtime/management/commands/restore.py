"""``opsdesk restore SRC``: the desk as an ``opsdesk backup`` archive holds it (see
opsdesk/runtime/backup.py). Stop ``opsdesk serve`` and ``opsdesk worker`` first."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from opsdesk.runtime.backup import BackupError, restore
from opsdesk.runtime.snapshots import SnapshotError


class Command(BaseCommand):
    help = ("Restore the database, the attachments and the secret key from an archive made by "
            "opsdesk backup, then migrate. Stop the server and the worker first.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("source", type=Path, help="the archive opsdesk backup made")
        parser.add_argument("--force", action="store_true",
                            help="replace a desk that already holds tickets, people or files")

    def handle(self, *args: Any, source: Path, force: bool, **options: Any) -> None:
        try:
            done = restore(source, force=force)
        except (BackupError, SnapshotError) as error:
            raise CommandError(str(error)) from error
        manifest = done.manifest
        self.stdout.write(
            f"Restored {manifest.tickets} tickets and {manifest.attachments} attachment files "
            f"from {source} (backed up {manifest.created_at} by opsdesk "
            f"{manifest.opsdesk_version}); the database is migrated. Start opsdesk serve and "
            f"opsdesk worker again.")
        if manifest.secret_key == "environment":
            self.stderr.write("The archive has no secret key (its desk took it from "
                              "OPSDESK_SECRET_KEY): set the same OPSDESK_SECRET_KEY here.")
        elif done.key_in_environment:
            self.stderr.write("The archive's secret key is restored to the data folder, but "
                              "OPSDESK_SECRET_KEY is set here and takes precedence.")
