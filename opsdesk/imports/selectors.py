"""Reads for importing: which issues were imported already, and the desk's people and
modules by every name an export may give them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.db.models import Q
from django.db.models.functions import Lower

from opsdesk.accounts.models import Module, User
from opsdesk.imports.models import ImportedTicket

# Keys per query: well below SQLite's and PostgreSQL's parameter limits.
CHUNK = 500


def imported_keys(*, system: str, keys: Sequence[str]) -> dict[str, int]:
    """Of ``keys``, those already imported from ``system``, with their tickets' ids."""
    found: dict[str, int] = {}
    for start in range(0, len(keys), CHUNK):
        found.update(ImportedTicket.objects
                     .filter(system=system, external_key__in=keys[start:start + CHUNK])
                     .values_list("external_key", "ticket_id"))
    return found


def users_by_login(logins: Iterable[str]) -> dict[str, User]:
    """The users whose username or email is one of ``logins`` (in any case), by that login
    in lower case; a username wins over another user's email."""
    wanted = {login.strip().lower() for login in logins if login.strip()}
    people = list(User.objects.alias(login=Lower("username"), address=Lower("email"))
                  .filter(Q(login__in=wanted) | Q(address__in=wanted)).order_by("-pk"))
    found: dict[str, User] = {}
    for user in people:
        if user.email.lower() in wanted:
            found[user.email.lower()] = user
    for user in people:
        if user.username.lower() in wanted:
            found[user.username.lower()] = user
    return found


def everyone() -> list[User]:
    """Every account, former staff included: a closed ticket's assignee may have left."""
    return list(User.objects.prefetch_related("groups").order_by("pk"))


def modules_by_name() -> dict[str, Module]:
    """Every module by its code and by its name, casefolded."""
    found: dict[str, Module] = {}
    for module in Module.objects.select_related("owner").order_by("pk"):
        found.setdefault(" ".join(module.name.split()).casefold(), module)
        found[module.code.casefold()] = module
    return found
