"""``opsdesk recount_deadlines [--calendar NAME] [--dry-run]``: count every open ticket's
deadlines again by its calendar, as a calendar edit does.

For what changes outside opsdesk: an upgrade of the chinese-calendar library that now knows a
year's official holidays and make-up working days (the yearly reminder asks for it), or a
time-zone database update. Each moved deadline gets its timeline event."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from opsdesk.sla import services
from opsdesk.sla.models import BusinessCalendar


class Command(BaseCommand):
    help = "Count the open tickets' deadlines again by their calendars (after a library upgrade)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--calendar", default="", help="Only this calendar (by name).")
        parser.add_argument("--dry-run", action="store_true",
                            help="Say how many deadlines would move, and change nothing.")

    def handle(self, *args: Any, calendar: str, dry_run: bool, **options: Any) -> None:
        calendars = BusinessCalendar.objects.order_by("name")
        if calendar:
            calendars = calendars.filter(name=calendar)
            if not calendars.exists():
                raise CommandError(f"No calendar named {calendar!r}.")
        for each in calendars:
            def recount(each: BusinessCalendar = each) -> int:
                return services.apply_calendar_change(calendar=each)
            moved = services.preview(recount) if dry_run else recount()
            verb = "would move" if dry_run else "moved"
            self.stdout.write(f"{each.name}: {verb} the deadlines of {moved} open ticket(s).")
