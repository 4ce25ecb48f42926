"""Assign new tickets by the routing rules, and explain every decision on the timeline."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from opsdesk.accounts.models import Module, User
from opsdesk.accounts.selectors import load_roles
from opsdesk.routing import notices, selectors
from opsdesk.routing.models import AssignTo, RoutingRule
from opsdesk.tickets import services as tickets
from opsdesk.tickets.choices import Status
from opsdesk.tickets.hooks import TicketChange
from opsdesk.tickets.models import Ticket


def rule_matches(rule: RoutingRule, ticket: Ticket) -> bool:
    if rule.priorities and ticket.priority_code not in rule.priorities:
        return False
    if rule.source_kinds and ticket.source_kind not in rule.source_kinds:
        return False
    if rule.problem_types and ticket.problem_type not in rule.problem_types:
        return False
    if rule.requires_module and ticket.module_id is None:
        return False
    module_ids = {m.pk for m in rule.modules.all()}
    return not module_ids or ticket.module_id in module_ids


def pick_assignee(rule: RoutingRule, ticket: Ticket, loads: selectors.Loads,
                  supporters: selectors.Supporters) -> User | None:
    """Who ``rule`` gives ``ticket`` to, or None when nobody fits (the duty engineer triages)."""
    if rule.assign_to == AssignTo.USER:
        # Fetched now, not kept with the cached rule: the person may have left since.
        return User.objects.filter(pk=rule.user_id or 0, is_active=True).first()
    if ticket.module is None:
        return None
    if rule.assign_to == AssignTo.MODULE_OWNER:
        return ticket.module.owner if ticket.module.owner.is_active else None
    if rule.assign_to == AssignTo.SUPPORT_ENGINEER:
        return loads.least_loaded(supporters.of(ticket.module, ticket.problem_type))
    return None


def route_new_tickets(changes: Sequence[TicketChange]) -> None:
    """Creation hook: the first matching rule assigns each new ticket; otherwise it waits in
    the duty engineer's triage queue. The timeline says which rule decided and why, and the
    assignee (or the duty engineer) is told."""
    rules, loads = selectors.enabled_rules(), selectors.Loads()
    modules = _load_module_owners([c.ticket for c in changes])
    supporters = selectors.Supporters(modules)
    assignments, waiting = [], []
    for change in changes:
        ticket = change.ticket
        if ticket.status != Status.NEW or ticket.assignee_id:
            continue
        for rule in rules:
            if not rule_matches(rule, ticket):
                continue
            assignee = pick_assignee(rule, ticket, loads, supporters)
            if assignee is not None:
                assignments.append(tickets.RuleAssignment(ticket, assignee, rule.name))
                loads.took(assignee, ticket.pk)
                break
            if rule.assign_to == AssignTo.DUTY_TRIAGE:
                waiting.append(change)
                break
        else:
            waiting.append(change)
    load_roles([a.assignee for a in assignments])  # checked by the assignment
    tickets.assign_by_rules(assignments)
    notices.assigned_by_rules(assignments)
    _leave_for_triage(waiting)


def _load_module_owners(new: Sequence[Ticket]) -> list[Module]:
    """The owners of the new tickets' modules, read in one query rather than one per ticket.
    The modules."""
    modules = [t.module for t in new if t.module is not None]
    owners = User.objects.in_bulk({m.owner_id for m in modules})
    for module in modules:
        module.owner = owners[module.owner_id]
    return modules


def _leave_for_triage(waiting: Sequence[TicketChange]) -> None:
    notes, by_duty = [], defaultdict(list)
    for change in waiting:
        duty = selectors.duty_engineer_at(change.at)
        by_duty[duty].append(change.ticket)
        # Stored as data, said in each reader's language when the timeline is read.
        notes.append((change.ticket, "waiting_for_duty",
                      {"duty_engineer": duty.username if duty else None,
                       "duty_name": str(duty) if duty else None}))
    for duty, waiting_tickets in by_duty.items():
        notices.triage_needed(waiting_tickets, duty=duty)
    tickets.note_routing(notes)
