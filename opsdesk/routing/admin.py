from typing import Any

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from opsdesk.accounts.models import ProblemType
from opsdesk.routing import roster
from opsdesk.routing.models import DutyShift, RoutingRule
from opsdesk.tickets.choices import Priority, SourceKind


class RoutingRuleForm(forms.ModelForm):  # type: ignore[type-arg]
    """Conditions ticked from lists, as on the routing page, rather than typed as JSON."""

    priorities = forms.MultipleChoiceField(
        label=_("priorities"), choices=[(p.code, p.label) for p in Priority], required=False,
        widget=forms.CheckboxSelectMultiple, help_text=_("None ticked: any."))
    source_kinds = forms.MultipleChoiceField(
        label=_("sources"), choices=SourceKind.choices, required=False,
        widget=forms.CheckboxSelectMultiple, help_text=_("None ticked: any."))
    problem_types = forms.MultipleChoiceField(
        label=_("problem types"), choices=ProblemType.choices, required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: any, even a ticket whose type is not known yet."))

    class Meta:
        model = RoutingRule
        fields = ("name", "order", "enabled", "priorities", "source_kinds", "problem_types",
                  "modules", "requires_module", "assign_to", "user")


def _labels(codes: list[str], choices: list[tuple[str, Any]]) -> str:
    return str(_(", ")).join(str(label) for code, label in choices if code in codes) or "—"


@admin.register(RoutingRule)
class RoutingRuleAdmin(admin.ModelAdmin):
    form = RoutingRuleForm
    list_display = ("order", "name", "enabled", "priority_labels", "source_labels",
                    "problem_type_labels", "assign_to", "user")
    list_display_links = ("name",)
    list_editable = ("order", "enabled")
    filter_horizontal = ("modules",)
    autocomplete_fields = ("user",)

    @admin.display(description=_("priorities"))
    def priority_labels(self, rule: RoutingRule) -> str:
        return _labels(rule.priorities, [(p.code, p.label) for p in Priority])

    @admin.display(description=_("sources"))
    def source_labels(self, rule: RoutingRule) -> str:
        return _labels(rule.source_kinds, SourceKind.choices)

    @admin.display(description=_("problem types"))
    def problem_type_labels(self, rule: RoutingRule) -> str:
        return _labels(rule.problem_types, ProblemType.choices)


class DutyShiftForm(forms.ModelForm):  # type: ignore[type-arg]
    """The roster page's checks in the admin too: a shift ending before it starts, too long,
    overlapping another or backed up by its own engineer, each said in words."""

    class Meta:
        model = DutyShift
        fields = ("starts_at", "ends_at", "engineer", "backup")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        values = {name: cleaned.get(name) for name in roster.SHIFT_FIELDS}
        if values["starts_at"] and values["ends_at"] and values["engineer"]:
            shift = DutyShift(pk=self.instance.pk, **values)
            # A field with a problem here is left out of the constraint's check, which would
            # only say the same less precisely.
            for name, problems in roster.shift_problems(shift, model_rules=False).items():
                self.add_error(name, problems)
        return cleaned


@admin.register(DutyShift)
class DutyShiftAdmin(admin.ModelAdmin):
    form = DutyShiftForm
    list_display = ("starts_at", "ends_at", "engineer", "backup")
    date_hierarchy = "starts_at"
    autocomplete_fields = ("engineer", "backup")
