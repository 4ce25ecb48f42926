"""The people page (/manage/people/): everyone with their roles, found by name or role; a
person added or changed with exactly the roles ticked, a role taken away only once nobody
counts on them for work that needs it (accounts.people)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from opsdesk.accounts import people
from opsdesk.accounts.models import User
from opsdesk.accounts.roles import Role
from opsdesk.bounds import positive_int
from opsdesk.web.views.admin_common import admin_page, refused
from opsdesk.web.views.common import person

PER_PAGE = 50


class PersonForm(forms.Form):
    username = forms.CharField(
        label=gettext_lazy("Username"), max_length=150,
        help_text=gettext_lazy("What they sign in with; it cannot be changed later."))
    display_name = forms.CharField(label=gettext_lazy("Name"), max_length=100, required=False)
    email = forms.EmailField(
        label=gettext_lazy("Email"), required=False,
        help_text=gettext_lazy("A new person signs in by a link mailed here until they set a "
                               "password."))
    department = forms.CharField(label=gettext_lazy("Department"), max_length=100,
                                 required=False)
    phone = forms.CharField(label=gettext_lazy("Phone"), max_length=50, required=False)
    is_active = forms.BooleanField(label=gettext_lazy("Active (may sign in)"), required=False,
                                   initial=True)
    roles = forms.MultipleChoiceField(label=gettext_lazy("Roles"), choices=Role.choices,
                                      required=False, widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args: Any, existing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if existing:
            self.fields["username"].disabled = True


@admin_page
def person_list(request: HttpRequest) -> HttpResponse:
    text = request.GET.get("text", "").strip()[:100]
    role = request.GET.get("role", "")
    found = User.objects.prefetch_related("groups").order_by("username")
    if text:
        found = found.filter(Q(username__icontains=text) | Q(display_name__icontains=text)
                             | Q(email__icontains=text) | Q(department__icontains=text))
    if role in Role.values:
        found = found.filter(groups__name=role)
    page = Paginator(found, PER_PAGE).get_page(positive_int(request.GET.get("page", "")) or 1)
    return render(request, "web/manage/people.html", {
        "nav": "manage", "page": page, "text": text, "role": role, "roles": Role.choices,
    })


def _person_page(request: HttpRequest, user: User | None) -> HttpResponse:
    initial: dict[str, Any] = {}
    if user is not None:
        initial = {name: getattr(user, name) for name in people.PERSON_FIELDS}
        initial["roles"] = sorted(user.roles & set(Role.values))
    form = PersonForm(request.POST or None, initial=initial, existing=user is not None)
    if request.method == "POST" and form.is_valid():
        fields = dict(form.cleaned_data)
        if user is not None:
            fields.pop("username")
        try:
            saved = people.save_person(by=person(request), person=user, **fields)
        except ValidationError as exc:
            refused(form, exc)
        else:
            messages.success(request, _("%(person)s is saved.") % {"person": saved})
            return redirect("web:manage_people")
    return render(request, "web/manage/person.html", {
        "nav": "manage", "person": user, "form": form,
        "work": people.work_of(user) if user is not None else [],
    }, status=422 if form.errors else 200)


@admin_page
def new_person(request: HttpRequest) -> HttpResponse:
    return _person_page(request, None)


@admin_page
def edit_person(request: HttpRequest, user_id: int) -> HttpResponse:
    return _person_page(request, get_object_or_404(User, pk=user_id))
