"""Finding the desk's people by the names other trackers give them: a username, an email, or
a display name (ZenTao exports real names, Jira Cloud display names). A name that fits nobody,
or several people, finds no one: the ticket keeps it as written, and no account is invented."""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass

from opsdesk.accounts.models import User
from opsdesk.imports import selectors
from opsdesk.imports.mapping import normal


def _key(name: str) -> str:
    return normal(unicodedata.normalize("NFKC", name))


def names_of(user: User) -> set[str]:
    """Every name an export may call ``user`` by."""
    names = {user.username, user.email, str(user), user.display_name, user.get_full_name()}
    if user.first_name and user.last_name:
        # A Chinese name is written family name first, without a space: 张 + 伟 = 张伟.
        names.add(user.last_name + user.first_name)
    return {_key(name) for name in names if name and name.strip()}


@dataclass(frozen=True)
class Person:
    """A name from the export and whom it found: ``user`` None when nobody, or when
    ``ambiguous`` (several people go by it)."""

    name: str
    user: User | None
    ambiguous: bool = False


class Directory:
    """The desk's people by name, read once per import. A username or an email finds its
    one account before any display name is looked at."""

    def __init__(self, *, explicit: Mapping[str, User], nobody: frozenset[str]) -> None:
        self.explicit = {_key(name): user for name, user in explicit.items()}
        self.nobody = {_key(name) for name in nobody}
        self.by_login: dict[str, User] = {}
        self.by_name: dict[str, dict[int, User]] = defaultdict(dict)
        for user in selectors.everyone():
            for login in (user.username, user.email):
                if login:
                    self.by_login.setdefault(_key(login), user)
            for name in names_of(user):
                self.by_name[name][user.pk] = user

    def find(self, name: str) -> Person | None:
        """Whom ``name`` names (the mapping file first); None when it names no one at all
        (blank, or a tracker's word for nobody)."""
        name = name.strip()
        if not name or _key(name) in self.nobody:
            return None
        key = _key(name)
        user = self.explicit.get(key) or self.by_login.get(key)
        if user is not None:
            return Person(name, user)
        candidates = list(self.by_name.get(key, {}).values())
        if len(candidates) > 1:
            return Person(name, None, ambiguous=True)
        return Person(name, candidates[0] if candidates else None)
