"""Signing in (throttled against password guessing), the language switch (remembered for the
signed-in person) and personal preferences (language, time zone)."""

from __future__ import annotations

import contextlib
import zoneinfo
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from django.views.i18n import set_language as django_set_language

from opsdesk.accounts.services import set_preferences
from opsdesk.web import selectors, services
from opsdesk.web.views.common import client_address, person

# The zones people here pick from most; any IANA name is accepted.
COMMON_ZONES = ("Asia/Shanghai", "Asia/Hong_Kong", "Asia/Taipei", "Asia/Singapore",
                "Asia/Tokyo", "Europe/London", "Europe/Berlin", "America/New_York",
                "America/Los_Angeles", "UTC")


class ThrottledAuthenticationForm(AuthenticationForm):
    """Django's sign-in form, refusing (even a right password) after repeated failures."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": gettext_lazy("Wrong username or password."),
    }

    def clean(self) -> dict[str, Any]:
        username = self.cleaned_data.get("username") or ""
        address = client_address(self.request) if self.request else None
        reopens = selectors.sign_in_blocked_until(username=username, address=address)
        if reopens is not None:
            raise ValidationError(
                _("Too many failed sign-ins. Try again after %(time)s.")
                % {"time": formats.time_format(timezone.localtime(reopens), "H:i")},
                code="throttled",
            )
        try:
            cleaned = super().clean()
        except ValidationError:
            services.record_sign_in_failure(username=username, address=address)
            raise
        services.clear_sign_in_failures(username=username)
        return cleaned


class SignInView(auth_views.LoginView):
    template_name = "web/login.html"
    authentication_form = ThrottledAuthenticationForm
    redirect_authenticated_user = True


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """Django's switch (a cookie for this browser), and the choice kept for the person."""
    response = django_set_language(request)
    language = request.POST.get("language", "")
    if request.user.is_authenticated and language:
        # An unknown language: Django's view has already ignored it.
        with contextlib.suppress(ValidationError):
            set_preferences(user=person(request), language=language)
    return response


class PreferencesForm(forms.Form):
    language = forms.ChoiceField(label=gettext_lazy("Language"), required=False)
    time_zone = forms.CharField(label=gettext_lazy("Time zone"), max_length=64)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        language = self.fields["language"]
        assert isinstance(language, forms.ChoiceField)
        language.choices = [("", _("Follow the browser")), *settings.LANGUAGES]

    def clean_time_zone(self) -> str:
        name = str(self.cleaned_data["time_zone"]).strip()
        if name not in zoneinfo.available_timezones():
            raise ValidationError(_("Unknown time zone: %s.") % name)
        return name


@login_required
def preferences(request: HttpRequest) -> HttpResponse:
    user = person(request)
    form = PreferencesForm(request.POST or None,
                           initial={"language": user.language, "time_zone": user.time_zone})
    if request.method == "POST" and form.is_valid():
        set_preferences(user=user, language=form.cleaned_data["language"],
                        time_zone=form.cleaned_data["time_zone"])
        messages.success(request, _("Preferences saved."))
        response = redirect("web:preferences")
        if form.cleaned_data["language"]:
            response.set_cookie(settings.LANGUAGE_COOKIE_NAME, form.cleaned_data["language"])
        return response
    return render(request, "web/preferences.html",
                  {"form": form, "zones": COMMON_ZONES, "nav": "preferences"})
