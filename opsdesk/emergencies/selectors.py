"""Reads for emergencies: the settings, the people an emergency concerns, open emergencies."""

from __future__ import annotations

from datetime import datetime

from django.db.models import QuerySet

from opsdesk.accounts.models import User
from opsdesk.accounts.roles import Role
from opsdesk.emergencies.models import Emergency, EmergencySettings
from opsdesk.notify.models import Team
from opsdesk.routing.selectors import duty_engineer_at
from opsdesk.tickets.choices import Status
from opsdesk.tickets.models import Ticket


def current_settings() -> EmergencySettings:
    """The settings row (the defaults, unsaved, if an admin deleted it)."""
    return EmergencySettings.objects.order_by("pk").first() or EmergencySettings()


def may_declare(user: User) -> bool:
    roles = current_settings().declaring_roles or []
    return user.has_role(*roles) or user.has_perm("emergencies.declare_emergency")


def responders(ticket: Ticket, at: datetime) -> list[User]:
    """Who must know at once: the module owner, the duty engineer on shift, the heads."""
    people: list[User | None] = [ticket.module.owner if ticket.module else None]
    people.append(duty_engineer_at(at))
    people += list(User.objects.filter(is_active=True, groups__name=Role.HEAD).order_by("pk"))
    return _distinct(people)


def stakeholders(ticket: Ticket, at: datetime) -> list[User | Team]:
    """Who hears status updates: the responders, the submitter and the watchers."""
    config = current_settings()
    people: list[User | None] = [*responders(ticket, at), ticket.submitter]
    if config.pk is not None:
        people += list(config.watchers.filter(is_active=True))
    recipients: list[User | Team] = list(_distinct(people))
    if config.watchers_team is not None:
        recipients.append(config.watchers_team)
    return recipients


def _distinct(people: list[User | None]) -> list[User]:
    seen: dict[int, User] = {}
    for person in people:
        if person is not None and person.is_active:
            seen.setdefault(person.pk, person)
    return list(seen.values())


def get_emergency(ticket: Ticket) -> Emergency | None:
    return Emergency.objects.select_related("declared_by").filter(ticket=ticket).first()


def open_emergencies() -> QuerySet[Emergency]:
    """Emergencies whose ticket is not closed, latest first (for department staff)."""
    return (
        Emergency.objects.select_related("ticket", "declared_by")
        .exclude(ticket__status__in=(Status.CLOSED, Status.ARCHIVED))
        .order_by("-declared_at", "-id")
    )
