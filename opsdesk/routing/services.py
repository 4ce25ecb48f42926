"""Assign new tickets by the routing rules, and explain every decision on the timeline."""

from __future__ import annotations

from django.utils.translation import gettext as _

from opsdesk.accounts.models import User
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
    if rule.requires_module and ticket.module_id is None:
        return False
    module_ids = {m.pk for m in rule.modules.all()}
    return not module_ids or ticket.module_id in module_ids


def pick_assignee(rule: RoutingRule, ticket: Ticket) -> User | None:
    """Who ``rule`` gives ``ticket`` to, or None when nobody fits (the duty engineer triages)."""
    if rule.assign_to == AssignTo.USER:
        # Fetched now, not kept with the cached rule: the person may have left since.
        return User.objects.filter(pk=rule.user_id or 0, is_active=True).first()
    if ticket.module is None:
        return None
    if rule.assign_to == AssignTo.MODULE_OWNER:
        return ticket.module.owner if ticket.module.owner.is_active else None
    if rule.assign_to == AssignTo.SUPPORT_ENGINEER:
        return selectors.least_loaded(
            selectors.support_candidates(ticket.module, ticket.problem_type)
        )
    return None


def route_new_ticket(change: TicketChange) -> None:
    """Hook: on creation, the first matching rule assigns the ticket; otherwise it waits in the
    duty engineer's triage queue, and the timeline says which rule decided and why."""
    ticket = change.ticket
    if change.action != "create" or ticket.status != Status.NEW or ticket.assignee_id:
        return
    for rule in selectors.enabled_rules():
        if not rule_matches(rule, ticket):
            continue
        assignee = pick_assignee(rule, ticket)
        if assignee is not None:
            tickets.assign_by_rule(ticket=ticket, assignee=assignee, rule=rule.name)
            return
        if rule.assign_to == AssignTo.DUTY_TRIAGE:
            break
    duty = selectors.duty_engineer_at(change.at)
    notices.triage_needed(ticket=ticket, duty=duty)
    tickets.note_routing(
        ticket_id=ticket.pk,
        message=_("Waiting for the duty engineer %(duty)s to triage.")
        % {"duty": duty or _("(nobody on duty)")},
        data={"duty_engineer": duty.username if duty else None},
    )
