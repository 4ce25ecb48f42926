"""Routing rules as the administration page edits them (created, changed, moved up or down the
order, removed, each on record), and which rule would take a ticket, decided by the routing
service's own matching and choice of person."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from opsdesk.accounts import audit
from opsdesk.accounts.models import Module, ProblemType, User
from opsdesk.routing import selectors
from opsdesk.routing.models import AssignTo, RoutingRule
from opsdesk.routing.services import pick_assignee, rule_matches
from opsdesk.tickets.choices import Priority, SourceKind
from opsdesk.tickets.models import Ticket

RULE_FIELDS = ("name", "enabled", "priorities", "source_kinds", "problem_types",
               "requires_module", "assign_to", "user")
ORDER_STEP = 10


def all_rules() -> list[RoutingRule]:
    """Every rule in the order they are tried, disabled ones too, with modules and person."""
    return list(RoutingRule.objects.select_related("user").prefetch_related("modules"))


def _save(by: User, rule: RoutingRule, modules: Iterable[Module] | None,
          changed: list[str], *, new: bool) -> RoutingRule:
    rule.full_clean(exclude=["modules"])
    rule.save()
    if modules is not None:
        modules = list(modules)
        if new or {m.pk for m in modules} != {m.pk for m in rule.modules.all()}:
            rule.modules.set(modules)
            changed.append("modules")
    if new:
        audit.added(by=by, obj=rule)
    elif changed:
        audit.changed(by=by, obj=rule, fields=changed)
    return rule


@transaction.atomic
def create_rule(*, by: User, modules: Iterable[Module] = (), **fields: Any) -> RoutingRule:
    """A new rule, tried after every existing one."""
    last = RoutingRule.objects.aggregate(last=Max("order"))["last"] or 0
    rule = RoutingRule(order=last + ORDER_STEP,
                       **{name: fields[name] for name in RULE_FIELDS if name in fields})
    return _save(by, rule, modules, [], new=True)


@transaction.atomic
def update_rule(*, by: User, rule: RoutingRule, modules: Iterable[Module] | None = None,
                **fields: Any) -> RoutingRule:
    """Change the conditions or the assignment of ``rule``; only the fields given change."""
    changed = [name for name in RULE_FIELDS
               if name in fields and fields[name] != getattr(rule, name)]
    for name in changed:
        setattr(rule, name, fields[name])
    return _save(by, rule, modules, changed, new=False)


@transaction.atomic
def move_rule(*, by: User, rule: RoutingRule, step: int) -> None:
    """Try ``rule`` one place earlier (step -1) or later (+1); the rules are numbered again
    10, 20, 30… in their new order."""
    ordered = list(RoutingRule.objects.select_for_update().order_by("order", "id"))
    at = next(i for i, r in enumerate(ordered) if r.pk == rule.pk)
    to = max(0, min(len(ordered) - 1, at + step))
    if to == at:
        return
    ordered.insert(to, ordered.pop(at))
    for position, each in enumerate(ordered, start=1):
        if each.order != position * ORDER_STEP:
            each.order = position * ORDER_STEP
            each.save(update_fields=["order"])
            audit.changed(by=by, obj=each, fields=["order"])


@transaction.atomic
def delete_rule(*, by: User, rule: RoutingRule) -> None:
    """Remove ``rule``; new tickets are tried against the others."""
    audit.deleted(by=by, obj=rule)
    rule.delete()


@dataclass
class Step:
    """One rule tried against the ticket: why it does not match, or whom it would pick."""

    rule: RoutingRule
    reasons: list[str] = field(default_factory=list)
    assignee: User | None = None
    decides: bool = False


@dataclass
class Decision:
    steps: list[Step]
    rule: RoutingRule | None
    assignee: User | None

    @property
    def to_triage(self) -> bool:
        return self.assignee is None


def _labels(codes: Iterable[str], choices: Iterable[tuple[str, Any]]) -> str:
    labels = dict(choices)
    return _(", ").join(str(labels.get(code, code)) for code in codes)


def mismatches(rule: RoutingRule, ticket: Ticket) -> list[str]:
    """Each condition of ``rule`` that ``ticket`` does not meet, in the reader's words."""
    priorities = {p.code: str(p.label) for p in Priority}
    reasons = []
    if rule.priorities and ticket.priority_code not in rule.priorities:
        reasons.append(_("The priority is %(value)s; the rule takes %(wanted)s.") % {
            "value": priorities[ticket.priority_code],
            "wanted": _labels(rule.priorities, priorities.items())})
    if rule.source_kinds and ticket.source_kind not in rule.source_kinds:
        reasons.append(_("The source is %(value)s; the rule takes %(wanted)s.") % {
            "value": SourceKind(ticket.source_kind).label,
            "wanted": _labels(rule.source_kinds, SourceKind.choices)})
    if rule.problem_types and ticket.problem_type not in rule.problem_types:
        reasons.append(_("The problem type is %(value)s; the rule takes %(wanted)s.") % {
            "value": ProblemType(ticket.problem_type).label if ticket.problem_type
            else _("not known yet"),
            "wanted": _labels(rule.problem_types, ProblemType.choices)})
    modules = list(rule.modules.all())
    if (rule.requires_module or modules) and ticket.module_id is None:
        reasons.append(_("The module is not known; the rule takes only tickets with one."))
    elif modules and ticket.module_id not in {m.pk for m in modules}:
        reasons.append(_("The module is %(value)s; the rule takes %(wanted)s.") % {
            "value": ticket.module, "wanted": _(", ").join(str(m) for m in modules)})
    return reasons


def which_rule(*, ticket: Ticket) -> Decision:
    """What routing would do with ``ticket`` if it were filed now: the enabled rules tried in
    order as ``services.route_new_tickets`` tries them (its ``rule_matches`` and
    ``pick_assignee``), each step explained; without a person, the duty engineer triages."""
    steps, loads = [], selectors.Loads()
    supporters = selectors.Supporters([ticket.module] if ticket.module else [])
    for rule in all_rules():
        step = Step(rule)
        steps.append(step)
        if not rule.enabled:
            step.reasons.append(_("The rule is disabled."))
            continue
        if not rule_matches(rule, ticket):
            step.reasons = mismatches(rule, ticket)
            continue
        step.assignee = pick_assignee(rule, ticket, loads, supporters)
        if step.assignee is not None or rule.assign_to == AssignTo.DUTY_TRIAGE:
            step.decides = True
            return Decision(steps, rule, step.assignee)
        step.reasons.append(_("It matches, but nobody fits it (no module, no such engineer, "
                              "or the person's account is deactivated); the next rule is "
                              "tried."))
    return Decision(steps, None, None)
