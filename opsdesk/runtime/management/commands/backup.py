"""``opsdesk backup DEST``: the database, the attachments and the secret key in one archive,
consistent while the desk runs (see opsdesk/runtime/backup.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.template.defaultfilters import filesizeformat

from opsdesk.runtime.backup import BackupError, back_up
from opsdesk.runtime.snapshots import SnapshotError


class Command(BaseCommand):
    help = ("Back the desk up into one archive while it runs: the database, every attachment "
            "and the secret key, with a manifest of checksums.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "destination", type=Path,
            help="the archive to create (NAME.tar, or NAME.tar.gz to compress it), or an "
                 "existing folder to create opsdesk-YYYYMMDD-HHMMSS.tar in")

    def handle(self, *args: Any, destination: Path, **options: Any) -> None:
        try:
            done = back_up(destination)
        except (BackupError, SnapshotError) as error:
            raise CommandError(str(error)) from error
        manifest = done.manifest
        size = filesizeformat(done.archive.stat().st_size).replace("\xa0", " ")
        self.stdout.write(f"Backed up {manifest.tickets} tickets and {manifest.attachments} "
                          f"attachment files to {done.archive} ({size}).")
        if manifest.secret_key == "environment":
            self.stderr.write("The secret key comes from OPSDESK_SECRET_KEY and is not in the "
                              "archive: keep it with the archive.")
        if done.missing:
            self.stderr.write(f"{len(done.missing)} files that rows point to are missing from "
                              f"the data folder, so not in the archive: "
                              + ", ".join(done.missing[:10]))
