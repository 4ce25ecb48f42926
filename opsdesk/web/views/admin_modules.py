"""The modules page (/manage/modules/): each module with its owner and its support engineers
per problem type, picked among the people holding those roles (accounts.modules)."""

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

from opsdesk.accounts import modules
from opsdesk.accounts.models import Module, ProblemType, User
from opsdesk.accounts.roles import Role
from opsdesk.accounts.selectors import list_modules
from opsdesk.web.views.admin_common import PersonChoice, admin_page, refused
from opsdesk.web.views.common import person


class PeopleChoice(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return str(obj)


def _holders(role: str) -> Any:
    return User.objects.filter(is_active=True, groups__name=role).distinct().order_by("username")


class ModuleForm(forms.Form):
    code = forms.SlugField(
        label=gettext_lazy("Code"), max_length=50,
        help_text=gettext_lazy("Latin letters, digits and hyphens, e.g. payment: what alerts "
                               "and the API name the module by."))
    name = forms.CharField(label=gettext_lazy("Name"), max_length=100,
                           help_text=gettext_lazy("As people say it, e.g. 支付模块."))
    description = forms.CharField(label=gettext_lazy("Description"), required=False,
                                  widget=forms.Textarea(attrs={"rows": 3}))
    owner = PersonChoice(label=gettext_lazy("Owner"), queryset=User.objects.none(),
                         help_text=gettext_lazy("Urgent and high tickets go to the owner at "
                                                "once. Only module owners (B) are offered."))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        owner = self.fields["owner"]
        assert isinstance(owner, PersonChoice)
        owner.queryset = _holders(Role.OWNER)
        for code, label in ProblemType.choices:
            self.fields[modules.support_field(code)] = PeopleChoice(
                label=label, required=False, queryset=_holders(Role.SUPPORT),
                widget=forms.CheckboxSelectMultiple)

    def support_fields(self) -> list[forms.BoundField]:
        return [self[modules.support_field(code)] for code in ProblemType.values]

    def values(self) -> dict[str, Any]:
        data = {name: self.cleaned_data[name] for name in modules.MODULE_FIELDS}
        data["support"] = {code: self.cleaned_data[modules.support_field(code)]
                           for code in ProblemType.values}
        return data


@admin_page
def module_list(request: HttpRequest) -> HttpResponse:
    listed = list(list_modules())
    for module in listed:
        module.support_by_type = modules.describe_support(module)  # type: ignore[attr-defined]
    return render(request, "web/manage/modules.html", {"nav": "manage", "modules": listed})


def _module_page(request: HttpRequest, module: Module | None) -> HttpResponse:
    initial: dict[str, Any] = {}
    if module is not None:
        initial = {name: getattr(module, name) for name in modules.MODULE_FIELDS}
        for link in module.support.all():
            initial.setdefault(modules.support_field(link.problem_type), []).append(
                link.engineer_id)
    form = ModuleForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            saved = modules.save_module(by=person(request), module=module, **form.values())
        except ValidationError as exc:
            refused(form, exc)
        else:
            messages.success(request, _("%(module)s is saved.") % {"module": saved})
            return redirect("web:manage_modules")
    return render(request, "web/manage/module.html", {
        "nav": "manage", "module": module, "form": form,
    }, status=422 if form.errors else 200)


@admin_page
def new_module(request: HttpRequest) -> HttpResponse:
    return _module_page(request, None)


@admin_page
def edit_module(request: HttpRequest, module_id: int) -> HttpResponse:
    return _module_page(request, get_object_or_404(Module, pk=module_id))


@admin_page
@require_POST
def delete_module(request: HttpRequest, module_id: int) -> HttpResponse:
    module = get_object_or_404(Module, pk=module_id)
    try:
        modules.delete_module(by=person(request), module=module)
    except ValidationError as exc:
        for problem in exc.messages:
            messages.error(request, problem)
        return redirect("web:manage_module", module_id=module_id)
    messages.success(request, _("%(module)s is removed.") % {"module": module})
    return redirect("web:manage_modules")
