"""The routing rules page (/manage/routing/): the rules in the order they are tried, moved up
or down, their conditions picked from lists (priorities, sources, problem types, modules), and
a tester saying which rule would take a ticket, and why not the others."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from opsdesk.accounts.models import Module, ProblemType, User
from opsdesk.accounts.roles import ASSIGNABLE_ROLES
from opsdesk.routing import rules
from opsdesk.routing.models import AssignTo, RoutingRule
from opsdesk.tickets.choices import Priority, SourceKind
from opsdesk.tickets.errors import NotFound
from opsdesk.tickets.models import Ticket
from opsdesk.tickets.selectors import get_ticket
from opsdesk.web.views.admin_common import PersonChoice, admin_page, refused
from opsdesk.web.views.common import person

PRIORITIES = [(p.code, p.label) for p in Priority]


def _ordered(codes: list[str], choices: list[tuple[str, Any]]) -> list[str]:
    """``codes`` in the order the list offers them."""
    return [code for code, _label in choices if code in codes]


class RuleForm(forms.Form):
    name = forms.SlugField(
        label=gettext_lazy("Name"), max_length=60,
        help_text=gettext_lazy("Latin letters, digits, hyphens and underscores: the ticket's "
                               "timeline names the rule that assigned it."))
    enabled = forms.BooleanField(label=gettext_lazy("Enabled"), required=False, initial=True)
    priorities = forms.MultipleChoiceField(
        label=gettext_lazy("Priorities"), choices=PRIORITIES, required=False,
        widget=forms.CheckboxSelectMultiple, help_text=gettext_lazy("None ticked: any."))
    source_kinds = forms.MultipleChoiceField(
        label=gettext_lazy("Sources"), choices=SourceKind.choices, required=False,
        widget=forms.CheckboxSelectMultiple, help_text=gettext_lazy("None ticked: any."))
    problem_types = forms.MultipleChoiceField(
        label=gettext_lazy("Problem types"), choices=ProblemType.choices, required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("None ticked: any, even a ticket whose type is not known yet."))
    modules = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Modules"), queryset=Module.objects.order_by("code"), required=False,
        widget=forms.CheckboxSelectMultiple, help_text=gettext_lazy("None ticked: any."))
    requires_module = forms.BooleanField(
        label=gettext_lazy("Only tickets whose module is known"), required=False)
    assign_to = forms.ChoiceField(label=gettext_lazy("Assign to"), choices=AssignTo.choices,
                                  widget=forms.RadioSelect)
    user = PersonChoice(
        label=gettext_lazy("The named person"), required=False,
        queryset=User.objects.none(), empty_label=gettext_lazy("(nobody)"),
        help_text=gettext_lazy("Only for 'a named person': module owners and support "
                               "engineers, who may be given a ticket."))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        user = self.fields["user"]
        assert isinstance(user, PersonChoice)
        user.queryset = User.objects.filter(
            is_active=True, groups__name__in=sorted(ASSIGNABLE_ROLES)).distinct() \
            .order_by("username")

    def values(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data["priorities"] = _ordered(data["priorities"], PRIORITIES)
        data["source_kinds"] = _ordered(data["source_kinds"], SourceKind.choices)
        data["problem_types"] = _ordered(data["problem_types"], ProblemType.choices)
        return data


class TesterForm(forms.Form):
    key = forms.CharField(label=gettext_lazy("A ticket's key"), required=False, max_length=30,
                          help_text=gettext_lazy("Or describe a ticket below."))
    priority = forms.ChoiceField(label=gettext_lazy("Priority"), choices=PRIORITIES,
                                 initial=Priority.HIGH.code)
    source_kind = forms.ChoiceField(label=gettext_lazy("Source"), choices=SourceKind.choices)
    problem_type = forms.ChoiceField(
        label=gettext_lazy("Problem type"), required=False,
        choices=[("", gettext_lazy("not known yet")), *ProblemType.choices])
    module = forms.ModelChoiceField(label=gettext_lazy("Module"), required=False,
                                    queryset=Module.objects.order_by("code"),
                                    empty_label=gettext_lazy("not known yet"))


def _tested(request: HttpRequest, form: TesterForm) -> tuple[Ticket | None, rules.Decision | None]:
    if not form.is_valid():
        return None, None
    data = form.cleaned_data
    if data["key"].strip():
        try:
            ticket = get_ticket(user=person(request), key=data["key"].strip())
        except NotFound as exc:
            form.add_error("key", exc.message)
            return None, None
    else:
        ticket = Ticket(priority=Priority.from_code(data["priority"]),
                        source_kind=data["source_kind"], problem_type=data["problem_type"],
                        module=data["module"])
    return ticket, rules.which_rule(ticket=ticket)


def _conditions(rule: RoutingRule) -> list[tuple[str, str]]:
    """(condition, what it takes) for each condition ``rule`` sets, in the reader's words."""
    def labels(codes: list[str], choices: list[tuple[str, Any]]) -> str:
        return _(", ").join(str(label) for code, label in choices if code in codes)

    shown = [
        (_("Priorities"), labels(rule.priorities, PRIORITIES)),
        (_("Sources"), labels(rule.source_kinds, SourceKind.choices)),
        (_("Problem types"), labels(rule.problem_types, ProblemType.choices)),
        (_("Modules"), _(", ").join(str(m) for m in rule.modules.all())),
        (_("Module"), _("must be known") if rule.requires_module else ""),
    ]
    return [(name, value) for name, value in shown if value]


@admin_page
def rule_list(request: HttpRequest) -> HttpResponse:
    tester = TesterForm(request.GET if "test" in request.GET else None)
    ticket, decision = _tested(request, tester) if tester.is_bound else (None, None)
    listed = rules.all_rules()
    for rule in listed:
        rule.conditions = _conditions(rule)  # type: ignore[attr-defined]
    return render(request, "web/manage/routing.html", {
        "nav": "manage", "rules": listed, "tester": tester, "ticket": ticket,
        "decision": decision,
    }, status=422 if tester.errors else 200)


def _rule_page(request: HttpRequest, rule: RoutingRule | None) -> HttpResponse:
    initial = {name: getattr(rule, name) for name in rules.RULE_FIELDS} if rule else {}
    if rule:
        initial["modules"] = list(rule.modules.all())
    form = RuleForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            if rule is None:
                saved = rules.create_rule(by=person(request), **form.values())
            else:
                saved = rules.update_rule(by=person(request), rule=rule, **form.values())
        except ValidationError as exc:
            refused(form, exc)
        else:
            messages.success(request, _("The rule %(name)s is saved.") % {"name": saved.name})
            return redirect("web:manage_routing")
    return render(request, "web/manage/rule.html", {"nav": "manage", "rule": rule, "form": form},
                  status=422 if form.errors else 200)


@admin_page
def new_rule(request: HttpRequest) -> HttpResponse:
    return _rule_page(request, None)


@admin_page
def edit_rule(request: HttpRequest, rule_id: int) -> HttpResponse:
    return _rule_page(request, get_object_or_404(RoutingRule, pk=rule_id))


@admin_page
@require_POST
def move_rule(request: HttpRequest, rule_id: int) -> HttpResponse:
    rule = get_object_or_404(RoutingRule, pk=rule_id)
    rules.move_rule(by=person(request), rule=rule,
                    step=-1 if request.POST.get("direction") == "up" else 1)
    return redirect("web:manage_routing")


@admin_page
@require_POST
def delete_rule(request: HttpRequest, rule_id: int) -> HttpResponse:
    rule = get_object_or_404(RoutingRule, pk=rule_id)
    rules.delete_rule(by=person(request), rule=rule)
    messages.success(request, _("The rule %(name)s is removed.") % {"name": rule.name})
    return redirect("web:manage_routing")
