"""Reads for routing: who is on duty, who is least loaded."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.db.models import Count, Max, Q
from django.utils import timezone

from opsdesk.accounts.models import Module, ModuleSupport, User
from opsdesk.accounts.roles import Role
from opsdesk.routing.models import DutyShift, RoutingRule
from opsdesk.runtime import config
from opsdesk.tickets.choices import Status

CLOSED = (Status.CLOSED, Status.ARCHIVED)


def enabled_rules() -> list[RoutingRule]:
    """The enabled rules in order, their modules loaded (kept in memory: opsdesk.runtime.config)."""
    return config.cached("routing_rules", _load_enabled_rules)


def _load_enabled_rules() -> list[RoutingRule]:
    return list(RoutingRule.objects.filter(enabled=True).prefetch_related("modules"))


@dataclass(frozen=True)
class _Roster:
    """The shifts around one day, newest start first, and who stands in without a shift."""

    shifts: list[DutyShift]
    stand_in: User | None

    def engineer_at(self, at: datetime) -> User | None:
        for shift in self.shifts:
            if shift.starts_at <= at < shift.ends_at:
                return shift.engineer
        return self.stand_in


def _load_roster(day: date) -> _Roster:
    start = datetime.combine(day, time(), tzinfo=UTC) - timedelta(days=1)
    shifts = DutyShift.objects.select_related("engineer").filter(
        starts_at__lt=start + timedelta(days=3), ends_at__gt=start
    )
    stand_in = User.objects.filter(is_active=True, groups__name=Role.DUTY).order_by("pk").first()
    return _Roster(list(shifts.order_by("-starts_at")), stand_in)


def duty_engineer_at(at: datetime | None = None) -> User | None:
    """The engineer on the shift at ``at``; without a roster entry, any active duty engineer.
    The roster around that day is kept in memory (opsdesk.runtime.config)."""
    at = at or timezone.now()
    day = at.astimezone(UTC).date()
    return config.cached(f"duty_roster:{day}", lambda: _load_roster(day)).engineer_at(at)


class Supporters:
    """The support engineers of some modules (a batch of new tickets' modules), read in one
    query on the first question rather than one per ticket."""

    def __init__(self, modules: Iterable[Module]) -> None:
        self._module_ids = {module.pk for module in modules}
        self._links: dict[int, list[ModuleSupport]] | None = None

    def of(self, module: Module, problem_type: str) -> list[User]:
        """Support engineers of ``module`` for ``problem_type`` (any type when it is not
        known), active ones only."""
        if self._links is None or module.pk not in self._module_ids:
            self._read({*self._module_ids, module.pk})
        assert self._links is not None
        engineers = {link.engineer_id: link.engineer for link in self._links.get(module.pk, ())
                     if not problem_type or link.problem_type == problem_type}
        return list(engineers.values())

    def _read(self, module_ids: set[int]) -> None:
        self._module_ids, self._links = module_ids, defaultdict(list)
        for link in (ModuleSupport.objects
                     .filter(module_id__in=module_ids, engineer__is_active=True)
                     .select_related("engineer")):
            self._links[link.module_id].append(link)


class Loads:
    """Open tickets per engineer, read once per batch of new tickets and added to as the
    batch hands them out (by any rule), so that one storm is spread as if filed one by one."""

    def __init__(self) -> None:
        self._stored: dict[int, tuple[int, int]] = {}  # engineer → (open tickets, last ticket id)
        self._taken: dict[int, tuple[int, int]] = {}  # the same, given out in this batch

    def least_loaded(self, candidates: Iterable[User]) -> User | None:
        """The candidate with the fewest open tickets; among equals, the one whose last
        assignment is oldest (round-robin), so equal engineers take turns."""
        candidates = list(candidates)
        missing = [user.pk for user in candidates if user.pk not in self._stored]
        if missing:
            counted = User.objects.filter(pk__in=missing).annotate(
                open_tickets=Count("assigned_tickets",
                                   filter=~Q(assigned_tickets__status__in=CLOSED)),
                last_ticket=Max("assigned_tickets__id"),
            ).values_list("pk", "open_tickets", "last_ticket")
            self._stored.update({pk: (count, last or 0) for pk, count, last in counted})
        candidates = [user for user in candidates if user.pk in self._stored]
        if not candidates:
            return None
        return min(candidates, key=lambda user: (*self._load(user.pk), user.pk))

    def took(self, user: User, ticket_id: int) -> None:
        """``user`` was given ``ticket_id`` in this batch."""
        count, _last = self._taken.get(user.pk, (0, 0))
        self._taken[user.pk] = (count + 1, ticket_id)

    def _load(self, user_id: int) -> tuple[int, int]:
        stored, last = self._stored[user_id]
        taken, last_taken = self._taken.get(user_id, (0, 0))
        return stored + taken, max(last, last_taken)


def shifts_between(start: datetime, end: datetime) -> list[DutyShift]:
    """The roster's shifts overlapping [start, end), in order, with their engineers."""
    return list(
        DutyShift.objects.select_related("engineer", "backup")
        .filter(starts_at__lt=end, ends_at__gt=start)
        .order_by("starts_at")
    )
