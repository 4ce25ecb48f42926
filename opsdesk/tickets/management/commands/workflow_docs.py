"""Print the workflow table as Markdown (docs/workflow.md is generated with it)."""

from typing import Any

from django.core.management.base import BaseCommand
from django.utils import translation

from opsdesk.tickets.docs import workflow_as_markdown


class Command(BaseCommand):
    help = "Print the workflow table (states, actions, roles, required fields) as Markdown."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--language", default="en")

    def handle(self, *args: Any, language: str, **options: Any) -> None:
        with translation.override(language):
            self.stdout.write(workflow_as_markdown(), ending="")
