from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from opsdesk.demo.loader import demo_is_loaded, load_demo, login_help


class Command(BaseCommand):
    help = "Load demo people, modules and tickets (once), then print how to sign in."

    def handle(self, *args: Any, **options: Any) -> None:
        if demo_is_loaded():
            self.stdout.write("Demo data is already loaded.")
        else:
            count = load_demo()
            self.stdout.write(self.style.SUCCESS(f"Loaded demo data: {count} tickets."))
        if options["verbosity"] > 0:
            self.stdout.write(login_help())
