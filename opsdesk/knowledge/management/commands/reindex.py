"""``opsdesk reindex``: rebuild the search indexes from every ticket and article."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from opsdesk.knowledge.services import rebuild_article_index, rebuild_index


class Command(BaseCommand):
    help = ("Re-segment every ticket and knowledge article into the search indexes (after a "
            "dictionary change, an upgrade of the segmenter, or to repair them), a batch per "
            "transaction while the desk keeps running.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch", type=int, default=1000,
                            help="tickets per transaction (default 1000)")

    def handle(self, *args: Any, batch: int, **options: Any) -> None:
        if batch < 1:
            raise CommandError("--batch must be at least 1")
        quiet = options["verbosity"] == 0

        def progress(done: int, total: int) -> None:
            if not quiet:
                self.stdout.write(f"\r{done:,} / {total:,} tickets ({done * 100 // total}%)",
                                  ending="")
                self.stdout.flush()

        indexed = rebuild_index(batch=batch, progress=progress)
        if not quiet:
            self.stdout.write("")
        self.stdout.write(self.style.SUCCESS(f"Indexed {indexed:,} tickets."))
        articles = rebuild_article_index()
        self.stdout.write(self.style.SUCCESS(f"Indexed {articles:,} articles."))
