"""Reads for accounts."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from functools import cache

from django.contrib.auth.models import Group
from django.db import OperationalError, connection, transaction
from django.db.models import QuerySet
from django.db.models.functions import Lower
from django.utils import timezone

from opsdesk.accounts import sign_in_links, throttle
from opsdesk.accounts.models import ApiToken, Module, User, hash_token, roles_of
from opsdesk.accounts.roles import STAFF_ROLES
from opsdesk.bounds import positive_int
from opsdesk.runtime import config, rows
from opsdesk.runtime.sqlite.base import lock_wait


def user_for_token(raw: str) -> User | None:
    """The active user a raw API token belongs to, with their roles loaded, or None.

    Every request a machine makes starts here, so this is one statement (the token, its user
    and the user's groups) instead of an ORM query plus the roles query: building an ORM query
    costs more than running it, and this cut 0.5 ms from every API request."""
    now = timezone.now()
    # Recording use at most once a minute keeps token auth a read on the hot path.
    stale_before = connection.ops.adapt_datetimefield_value(now - timedelta(seconds=60))
    with connection.cursor() as cursor:
        cursor.execute(_token_sql(), [stale_before, hash_token(raw), True])
        found = cursor.fetchall()
    if not found:
        return None
    width = len(User._meta.concrete_fields)
    user = rows.build(User, found[0][:width])
    token_id, stale = found[0][width], found[0][width + 1]
    # The roles at hand, so that no permission check of this request reads them again.
    user.__dict__["roles"] = roles_of({row[width + 3] for row in found if row[width + 2]},
                                      superuser=user.is_superuser)
    if stale:
        _record_use(token_id, now)
    return user


def _record_use(token_id: int, now: datetime) -> None:
    """A token's last use is bookkeeping: a request neither waits for the write lock to note
    it nor fails when it cannot (it is noted on a later request)."""
    try:
        with lock_wait(0), transaction.atomic():
            ApiToken.objects.filter(pk=token_id).update(last_used_at=now)
    except OperationalError:
        pass


@cache
def _token_sql() -> str:
    """The token, its active user and the user's groups (one row per group)."""
    q = connection.ops.quote_name
    user, token = User._meta, ApiToken._meta
    membership, group = User.groups.through._meta, Group._meta
    columns = ", ".join(f"u.{q(f.column)}" for f in user.concrete_fields)
    return (
        f"SELECT {columns}, t.{q('id')} AS token_id, "
        f"(t.{q('last_used_at')} IS NULL OR t.{q('last_used_at')} < %s) AS token_stale, "
        f"g.{q('id')} AS group_id, g.{q('name')} AS group_name "
        f"FROM {q(token.db_table)} t "
        f"JOIN {q(user.db_table)} u ON u.{q('id')} = t.{q('user_id')} "
        f"LEFT JOIN {q(membership.db_table)} m ON m.{q('user_id')} = u.{q('id')} "
        f"LEFT JOIN {q(group.db_table)} g ON g.{q('id')} = m.{q('group_id')} "
        f"WHERE t.{q('digest')} = %s AND t.{q('revoked_at')} IS NULL "
        f"AND u.{q('is_active')} = %s"
    )


def load_roles(users: Iterable[User]) -> None:
    """Read the roles of ``users`` that have none loaded, in one light query (group names
    only, no instances), so that their permission checks read nothing more."""
    missing = {user.pk: user for user in users if "roles" not in user.__dict__}
    if not missing:
        return
    names: dict[int, set[str]] = {pk: set() for pk in missing}
    for user_id, name in (User.groups.through.objects.filter(user_id__in=missing)
                          .values_list("user_id", "group__name")):
        names[user_id].add(name)
    for pk, user in missing.items():
        user.__dict__["roles"] = roles_of(names[pk], superuser=user.is_superuser)


def get_user_by_ref(ref: str | int) -> User | None:
    """A user by id or username."""
    if (number := positive_int(ref)) is not None:
        return rows.one(User, "id", number)
    return rows.one(User, "username", ref) if isinstance(ref, str) else None


def get_user_by_email(address: str) -> User | None:
    """The active user with this e-mail address (case-insensitive; the oldest account if
    several share it), or None."""
    if not address:
        return None
    return (User.objects.alias(email_lower=Lower("email"))  # served by the user_email_lower index
            .filter(email_lower=address.lower(), is_active=True).order_by("pk").first())


def get_user_by_login(login: str) -> User | None:
    """The active user whose username, or else whose mail address, is ``login``."""
    login = login.strip()
    if not login:
        return None
    user = User.objects.filter(username=login, is_active=True).first()
    return user or (get_user_by_email(login) if "@" in login else None)


def get_module_by_ref(ref: str | int) -> Module | None:
    """A module by id, code or name (a code match wins over a name match), from the
    configuration cache: every creation and module filter names one, and a desk has a few
    dozen. The instances are shared: read them, never change them."""
    by_id, by_code, by_name = config.cached("accounts.modules", _modules)
    if (number := positive_int(ref)) is not None:
        return by_id.get(number)
    if not isinstance(ref, str):
        return None
    return by_code.get(ref) or by_name.get(ref)


def _modules() -> tuple[dict[int, Module], dict[str, Module], dict[str, Module]]:
    modules = list(Module.objects.all())
    return ({m.pk: m for m in modules}, {m.code: m for m in modules},
            {m.name: m for m in modules})


def list_modules() -> QuerySet[Module]:
    return (
        Module.objects.select_related("owner")
        .prefetch_related("owner__groups", "support__engineer__groups")
        .order_by("code")
    )


def list_staff(*, role: str | None = None) -> QuerySet[User]:
    """Active users holding a department role (all, or the given one), roles prefetched."""
    staff = User.objects.filter(is_active=True, groups__name__in=sorted(STAFF_ROLES))
    if role:
        staff = staff.filter(groups__name=role)
    return staff.distinct().prefetch_related("groups").order_by("username")


def people_with_roles(roles: Iterable[str]) -> list[tuple[str, str, frozenset[str]]]:
    """Active people holding any of ``roles``, as (username, name, their roles among
    ``roles``), by username: the choices of a form, which most pages offer, from the
    configuration cache (people and their roles are watched). The list is shared: read it."""
    wanted = tuple(sorted(roles))
    return config.cached(f"accounts.people:{','.join(wanted)}", lambda: _people_with(wanted))


def _people_with(roles: tuple[str, ...]) -> list[tuple[str, str, frozenset[str]]]:
    rows = (
        User.objects.filter(is_active=True, groups__name__in=roles)
        .order_by("username")
        .values_list("username", "display_name", "first_name", "last_name", "groups__name")
    )
    people: dict[str, tuple[str, set[str]]] = {}
    for username, display, first, last, role in rows:
        name = display or f"{first} {last}".strip() or username
        people.setdefault(username, (name, set()))[1].add(role)
    return [(username, name, frozenset(held)) for username, (name, held) in people.items()]


def module_names() -> list[tuple[str, str]]:
    """(code, name) of every module, by code, from the configuration cache."""
    _by_id, by_code, _by_name = config.cached("accounts.modules", _modules)
    return [(code, by_code[code].name) for code in sorted(by_code)]


def sign_in_lock(*, username: str, address: str | None) -> throttle.Lock | None:
    """Whether the sign-in throttle refuses ``username`` from ``address``, and until when."""
    return throttle.current_lock(username=throttle.username_of(None, {"username": username}),
                                 address=address)


def user_for_sign_in_link(token: str) -> User | None:
    """The person a mailed sign-in link is for, while it is valid (without using it)."""
    return sign_in_links.user_for_token(token)
