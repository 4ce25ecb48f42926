"""The integrations page (/manage/integrations/): each sender with its endpoint, how its
secret starts and what it last sent; one added or given a new secret sees the secret once, on
the answer to that request, which no cache keeps (intake.configure)."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Max
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from opsdesk.intake import configure
from opsdesk.intake.models import Integration, IntegrationKind
from opsdesk.web.views.admin_common import admin_page, refused
from opsdesk.web.views.common import person


def _options(value: str) -> dict[str, Any]:
    try:
        options = json.loads(value or "{}")
    except json.JSONDecodeError as exc:
        raise ValidationError(
            _("The options are not valid JSON: look at line %(line)s, column %(column)s (a "
              "missing or extra comma, quote or brace).")
            % {"line": exc.lineno, "column": exc.colno}) from exc
    if not isinstance(options, dict):
        raise ValidationError(_("The options are a JSON object: {…}, {} for none."))
    return options


class OptionsField(forms.CharField):
    def clean(self, value: Any) -> dict[str, Any]:  # type: ignore[override]
        return _options(super().clean(value))


OPTIONS_HELP = gettext_lazy(
    'Usually {}. Alertmanager and Zabbix: {"dedupe_by": "fingerprint", '
    '"auto_close_resolved": true, "severity_priority": {"critical": "urgent"}}; a generic '
    'webhook: its mapping, {"fields": {…}, "constants": {…}, "value_maps": {…}, '
    '"idempotency_key": "…", "signature_header": "…"} (see the README).')


class IntegrationForm(forms.Form):
    name = forms.SlugField(
        label=gettext_lazy("Name"), max_length=60,
        help_text=gettext_lazy("Latin letters, digits and hyphens; a generic webhook is "
                               "posted to /api/v1/intake/webhook/<name>."))
    kind = forms.ChoiceField(label=gettext_lazy("Sender"), choices=IntegrationKind.choices,
                             widget=forms.RadioSelect)
    enabled = forms.BooleanField(label=gettext_lazy("Enabled"), required=False, initial=True)
    options = OptionsField(label=gettext_lazy("Options (JSON)"), required=False, initial="{}",
                           widget=forms.Textarea(attrs={"rows": 6, "class": "mono"}),
                           help_text=OPTIONS_HELP)

    def __init__(self, *args: Any, existing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if existing:
            self.fields["name"].disabled = self.fields["kind"].disabled = True


def _secret_page(request: HttpRequest, integration: Integration, secret: str) -> HttpResponse:
    response = render(request, "web/manage/secret.html", {
        "nav": "manage", "integration": integration, "secret": secret,
        "endpoint": request.build_absolute_uri(configure.endpoint(integration)),
        "signing_key": configure.signing_key(integration),
    })
    add_never_cache_headers(response)
    return response


@admin_page
def integration_list(request: HttpRequest) -> HttpResponse:
    listed = list(Integration.objects.annotate(
        received=Count("messages"), last_received=Max("messages__received_at"),
    ).order_by("name"))
    for integration in listed:
        integration.endpoint = configure.endpoint(integration)  # type: ignore[attr-defined]
    return render(request, "web/manage/integrations.html", {
        "nav": "manage", "integrations": listed})


@admin_page
def new_integration(request: HttpRequest) -> HttpResponse:
    form = IntegrationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            integration, secret = configure.add_integration(by=person(request),
                                                            **form.cleaned_data)
        except ValidationError as exc:
            refused(form, exc)
        else:
            return _secret_page(request, integration, secret)
    return render(request, "web/manage/integration.html", {
        "nav": "manage", "integration": None, "form": form,
    }, status=422 if form.errors else 200)


@admin_page
def edit_integration(request: HttpRequest, integration_id: int) -> HttpResponse:
    integration = get_object_or_404(Integration, pk=integration_id)
    form = IntegrationForm(request.POST or None, existing=True, initial={
        "name": integration.name, "kind": integration.kind, "enabled": integration.enabled,
        "options": json.dumps(integration.options, ensure_ascii=False, indent=2)})
    if request.method == "POST" and form.is_valid():
        try:
            configure.change_integration(by=person(request), integration=integration,
                                         options=form.cleaned_data["options"],
                                         enabled=form.cleaned_data["enabled"])
        except ValidationError as exc:
            refused(form, exc)
        else:
            messages.success(request, _("%(name)s is saved.") % {"name": integration.name})
            return redirect("web:manage_integrations")
    return render(request, "web/manage/integration.html", {
        "nav": "manage", "integration": integration, "form": form,
        "endpoint": configure.endpoint(integration),
    }, status=422 if form.errors else 200)


@admin_page
@require_POST
def rotate(request: HttpRequest, integration_id: int) -> HttpResponse:
    integration = get_object_or_404(Integration, pk=integration_id)
    secret = configure.new_secret(by=person(request), integration=integration)
    return _secret_page(request, integration, secret)
