"""People and their roles as the administration page keeps them. A role is taken away (or a
person deactivated) only once nobody counts on them for work that needs it: modules they own
or support, duty shifts to come, routing rules that name them, tickets they hold; the refusal
names that work in the reader's words. Every change is on record."""

from __future__ import annotations

from collections.abc import Iterable

from django.apps import apps
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from opsdesk.accounts import audit
from opsdesk.accounts.models import User
from opsdesk.accounts.roles import ASSIGNABLE_ROLES, Role

PERSON_FIELDS = ("username", "display_name", "email", "department", "phone", "is_active")
CLOSED_STATUSES = ("closed", "archived")


def _names(items: Iterable[object]) -> str:
    return _(", ").join(str(item) for item in items)


def _work_needing(user: User, role: str) -> list[str]:
    """The work ``user`` is given that only holders of ``role`` may have, in words."""
    work = []
    if role == Role.OWNER and (owned := list(user.owned_modules.all())):
        work.append(_("owns %(modules)s") % {"modules": _names(owned)})
    if role == Role.SUPPORT and (links := list(user.module_support.select_related("module"))):
        work.append(_("supports %(modules)s") % {
            "modules": _names(sorted({str(link.module) for link in links}))})
    if role == Role.DUTY:
        shift_model = apps.get_model("routing", "DutyShift")
        shifts = shift_model.objects.filter(ends_at__gt=timezone.now()).filter(
            engineer=user) | shift_model.objects.filter(ends_at__gt=timezone.now(), backup=user)
        if count := shifts.count():
            work.append(ngettext("is on %(count)s duty shift to come",
                                 "is on %(count)s duty shifts to come", count) % {"count": count})
    return work


def _assignable_work(user: User) -> list[str]:
    """Work only module owners or support engineers may have (either role will do)."""
    work = []
    rules = list(apps.get_model("routing", "RoutingRule").objects.filter(user=user))
    if rules:
        work.append(_("is named by the routing rules %(rules)s") % {"rules": _names(rules)})
    if count := user.assigned_tickets.exclude(status__in=CLOSED_STATUSES).count():  # type: ignore[attr-defined]
        work.append(ngettext("holds %(count)s open ticket", "holds %(count)s open tickets",
                             count) % {"count": count})
    return work


def work_of(user: User) -> list[str]:
    """Everything ``user`` is counted on for that needs a role, in the reader's words."""
    work = [item for role in sorted(user.roles) for item in _work_needing(user, role)]
    return work + _assignable_work(user)


def _problems(by: User, user: User, roles: set[str], active: bool) -> list[str]:
    if user.pk is None:
        return []
    held = set(user.roles) if user.is_active else set()
    kept = roles if active else set()
    problems = []
    for role in sorted(held - kept):
        work = _work_needing(user, role)
        if work:
            problems.append(_("%(person)s %(work)s: hand that over before taking away the role "
                              "%(role)s.") % {"person": user, "work": _names(work),
                                              "role": Role(role).label})
    if held & ASSIGNABLE_ROLES and not kept & ASSIGNABLE_ROLES:
        work = _assignable_work(user)
        if work:
            problems.append(_("%(person)s %(work)s: hand that over first; only module owners and "
                              "support engineers may be given tickets.")
                            % {"person": user, "work": _names(work)})
    if user.pk == by.pk and Role.ADMIN in held - kept and not user.is_superuser:
        problems.append(_("You would lose the administration pages yourself: ask another "
                          "administrator to do it."))
    return problems


@transaction.atomic
def save_person(*, by: User, person: User | None, roles: Iterable[str], **fields: object
                ) -> User:
    """Create a person (``person`` None; they sign in by a mailed link until they set a
    password) or change one, with exactly ``roles``."""
    new = person is None
    user = person or User()
    wanted = {role for role in roles if role in Role.values}
    active = bool(fields.get("is_active", user.is_active))
    problems = _problems(by, user, wanted, active)
    changed = [name for name in PERSON_FIELDS
               if name in fields and fields[name] != getattr(user, name)]
    for name in changed:
        setattr(user, name, fields[name])
    if new:
        user.set_unusable_password()
    try:
        user.full_clean(exclude=["password"])
    except ValidationError as exc:
        if problems:
            exc.error_dict.setdefault("__all__", []).extend(ValidationError(p) for p in problems)
        raise
    if problems:
        raise ValidationError(problems)
    user.save()
    held = {group.name for group in user.groups.all()} & set(Role.values)
    if held != wanted:
        user.groups.remove(*Group.objects.filter(name__in=held - wanted))
        user.groups.add(*(Group.objects.get_or_create(name=role)[0] for role in wanted - held))
        user.__dict__.pop("roles", None)
        changed.append("groups")
    if new:
        audit.added(by=by, obj=user)
    elif changed:
        audit.changed(by=by, obj=user, fields=changed)
    return user
