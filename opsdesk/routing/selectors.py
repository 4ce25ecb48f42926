"""Reads for routing: who is on duty, who is least loaded."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.db.models import Count, F, Max, Q, QuerySet
from django.utils import timezone

from opsdesk.accounts.models import Module, ModuleSupport, User
from opsdesk.accounts.roles import Role
from opsdesk.routing.models import DutyShift, RoutingRule
from opsdesk.tickets.choices import Status

CLOSED = (Status.CLOSED, Status.ARCHIVED)


def enabled_rules() -> QuerySet[RoutingRule]:
    rules = RoutingRule.objects.filter(enabled=True)
    return rules.prefetch_related("modules").select_related("user")


def shift_at(at: datetime | None = None) -> DutyShift | None:
    at = at or timezone.now()
    return (
        DutyShift.objects.select_related("engineer", "backup")
        .filter(starts_at__lte=at, ends_at__gt=at)
        .order_by("-starts_at")
        .first()
    )


def duty_engineer_at(at: datetime | None = None) -> User | None:
    """The engineer on the current shift; without a roster entry, any active duty engineer."""
    shift = shift_at(at)
    if shift is not None:
        return shift.engineer
    return User.objects.filter(is_active=True, groups__name=Role.DUTY).order_by("pk").first()


def support_candidates(module: Module, problem_type: str) -> list[User]:
    """Support engineers of ``module`` for ``problem_type`` (any type when it is not known)."""
    links = ModuleSupport.objects.filter(module=module, engineer__is_active=True)
    if problem_type:
        links = links.filter(problem_type=problem_type)
    engineers = {link.engineer_id: link.engineer for link in links.select_related("engineer")}
    return list(engineers.values())


def least_loaded(candidates: Iterable[User]) -> User | None:
    """The candidate with the fewest open tickets; among equals, the one whose last assignment
    is oldest (round-robin), so equal engineers take turns."""
    ids = [user.pk for user in candidates]
    if not ids:
        return None
    return (
        User.objects.filter(pk__in=ids)
        .annotate(
            open_tickets=Count("assigned_tickets", filter=~Q(assigned_tickets__status__in=CLOSED)),
            last_ticket=Max("assigned_tickets__id"),
        )
        .order_by("open_tickets", F("last_ticket").asc(nulls_first=True), "pk")
        .first()
    )


def shifts_between(start: datetime, end: datetime) -> list[DutyShift]:
    """The roster's shifts overlapping [start, end), in order, with their engineers."""
    return list(
        DutyShift.objects.select_related("engineer", "backup")
        .filter(starts_at__lt=end, ends_at__gt=start)
        .order_by("starts_at")
    )
