"""``opsdesk unlock USERNAME``: lift the sign-in throttle's lock on an account (from every
address), for someone without a mail address to receive a sign-in link; ``--address`` lifts
the lock on an address (all its accounts), or, with a username, on that pair only."""

from __future__ import annotations

import ipaddress
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from opsdesk.accounts.models import User
from opsdesk.accounts.services import unlock_sign_in


class Command(BaseCommand):
    help = "Forget the failed sign-ins that lock an account or an address."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username", nargs="?", default="")
        parser.add_argument("--address", default="", help="Only (or all) from this IP address.")

    def handle(self, *args: Any, username: str, address: str, **options: Any) -> None:
        if not (username or address):
            raise CommandError("Name a username, an --address, or both.")
        if username and not User.objects.filter(username=username).exists():
            raise CommandError(f"No user {username!r}.")
        if address:
            try:
                address = str(ipaddress.ip_address(address))
            except ValueError as exc:
                raise CommandError(str(exc)) from exc
        removed = unlock_sign_in(username=username, address=address)
        who = " from ".join(part for part in (username, address) if part)
        self.stdout.write(f"Unlocked {who} ({removed} record(s) of failed sign-ins removed).")
