"""Signing in (throttled against password guessing, with a one-time link by mail as the way in
that guessing cannot block), the language switch (remembered for the signed-in person) and
personal preferences (language, time zone)."""

from __future__ import annotations

import contextlib
import zoneinfo
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST
from django.views.i18n import set_language as django_set_language

from opsdesk.accounts import selectors as accounts
from opsdesk.accounts import services as account_services
from opsdesk.accounts.addresses import client_address
from opsdesk.accounts.services import set_preferences
from opsdesk.web.views.common import person

# The zones people here pick from most; any IANA name is accepted.
COMMON_ZONES = ("Asia/Shanghai", "Asia/Hong_Kong", "Asia/Taipei", "Asia/Singapore",
                "Asia/Tokyo", "Europe/London", "Europe/Berlin", "America/New_York",
                "America/Los_Angeles", "UTC")


class SignInForm(AuthenticationForm):
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": gettext_lazy("Wrong username or password."),
    }


class SignInView(auth_views.LoginView):
    """The one sign-in page (the admin's included). Every password it checks passes the
    throttle (opsdesk.accounts.throttle), which answers a refused one with ``locked_out``."""

    template_name = "web/login.html"
    authentication_form = SignInForm
    redirect_authenticated_user = True


class SignOutView(auth_views.LogoutView):
    """Signing out (the bar's button, a POST) lands on the sign-in page saying so, in the
    language the person was reading. Opening the address itself (a bookmark, a typed link)
    asks first: a GET must not sign anyone out, and Django's answer to it was a blank 405."""

    next_page = "web:login"
    http_method_names = ["get", "post", "options"]

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect("web:login")
        return render(request, "web/sign_out.html")

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        language = getattr(request.user, "language", "")
        response = super().post(request, *args, **kwargs)
        messages.info(request, _("You have signed out."))
        if language:
            # Their saved language came from the account, which the next page no longer knows.
            response.set_cookie(settings.LANGUAGE_COOKIE_NAME, language)
        return response


def locked_out(request: HttpRequest, original_response: HttpResponse | None,
               credentials: dict[str, Any] | None) -> HttpResponse:
    """The sign-in page saying that sign-in is locked, until when, and the way in that
    remains (the throttle's lockout response, AXES_LOCKOUT_CALLABLE)."""
    typed = str((credentials or {}).get("username") or "")
    lock = accounts.sign_in_lock(username=typed, address=client_address(request))
    form = SignInForm(request, initial={"username": typed})
    next_page = request.POST.get("next", "") if request.method == "POST" else ""
    return render(request, "web/login.html",
                  {"form": form, "locked": True, "lock": lock, "next": next_page}, status=429)


def admin_sign_in(request: HttpRequest) -> HttpResponse:
    """The admin signs in on opsdesk's own page, throttled like every other sign-in. Someone
    signed in whom the admin sent here may not use the admin: refused, not sent round again."""
    if request.user.is_authenticated:
        raise PermissionDenied
    return redirect_to_login(request.GET.get("next") or reverse("admin:index"))


@require_http_methods(["GET", "POST"])
def ask_sign_in_link(request: HttpRequest) -> HttpResponse:
    """Ask for a one-time sign-in link by mail; the answer does not say whether the account
    exists."""
    if request.method == "POST":
        account_services.request_sign_in_link(
            login=request.POST.get("login", ""), requested_from=client_address(request),
            language=translation.get_language() or settings.LANGUAGE_CODE)
        return render(request, "web/sign_in_link.html", {"state": "sent"})
    return render(request, "web/sign_in_link.html",
                  {"state": "ask", "login": request.GET.get("username", "")[:254]})


@require_http_methods(["GET", "POST"])
def sign_in_by_link(request: HttpRequest, token: str) -> HttpResponse:
    """A mailed link: opening it asks to confirm (mail scanners open links too, and must not
    use it up); confirming signs in, once."""
    if request.method == "POST":
        user = account_services.redeem_sign_in_link(token=token)
        if user is not None:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            return redirect(settings.LOGIN_REDIRECT_URL)
    else:
        user = accounts.user_for_sign_in_link(token)
        if user is not None:
            return render(request, "web/sign_in_link.html", {"state": "confirm", "person": user})
    return render(request, "web/sign_in_link.html", {"state": "invalid"}, status=400)


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
