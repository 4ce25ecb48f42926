"""``opsdesk token create USER``: API tokens for machines; the secret is printed once."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from opsdesk.accounts.models import ApiToken, User
from opsdesk.accounts.services import create_api_token, revoke_api_token


class Command(BaseCommand):
    help = "Create, list or revoke API tokens."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="verb", required=True)
        create = sub.add_parser("create", help="Create a token for USER and print it once.")
        create.add_argument("username")
        create.add_argument("--name", default="cli")
        listing = sub.add_parser("list", help="List a user's tokens (never their secrets).")
        listing.add_argument("username")
        revoke = sub.add_parser("revoke", help="Revoke the token that starts with PREFIX.")
        revoke.add_argument("prefix")

    def handle(self, *args: Any, verb: str, **options: Any) -> None:
        if verb == "revoke":
            tokens = ApiToken.objects.filter(prefix=options["prefix"], revoked_at__isnull=True)
            if tokens.count() != 1:
                raise CommandError(f"No single active token starts with {options['prefix']!r}.")
            revoke_api_token(token=tokens.get())
            self.stdout.write("revoked")
            return
        user = User.objects.filter(username=options["username"]).first()
        if user is None:
            raise CommandError(f"No user {options['username']!r}.")
        if verb == "create":
            _token, raw = create_api_token(user=user, name=options["name"])
            self.stdout.write(raw)
            return
        for token in user.api_tokens.order_by("created_at"):
            state = "revoked" if token.revoked_at else "active"
            created = f"{token.created_at:%Y-%m-%d}"
            self.stdout.write(f"{token.prefix}…  {token.name}  {state}  created {created}")
