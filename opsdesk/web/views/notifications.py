"""Following a ticket from its page; one's notifications in opsdesk itself (the list, read and
unread, and the count in the navigation); and one's notification preferences: which kinds of
message each of one's channels carries, and quiet hours."""

from __future__ import annotations

from datetime import time
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from opsdesk.accounts.models import User
from opsdesk.bounds import positive_int
from opsdesk.notify import selectors as notify_selectors
from opsdesk.notify import services as notify
from opsdesk.notify.choices import NotificationKind
from opsdesk.notify.models import Channel
from opsdesk.web.views.common import person, refusals_shown_by
from opsdesk.web.views.live import live_seconds, polled, unchanged
from opsdesk.web.views.ticket import back_to_ticket, visible_ticket

NOTICES_PAGE = 50


@login_required
@require_POST
@refusals_shown_by(back_to_ticket)
def watch(request: HttpRequest, key: str) -> HttpResponse:
    user = person(request)
    ticket = visible_ticket(user, key)
    if "stop" in request.POST:
        notify.unwatch_ticket(ticket=ticket, by=user)
        messages.success(request, _("You no longer follow %s.") % ticket.key)
        return redirect("web:ticket", key=ticket.key)
    notify.watch_ticket(ticket=ticket, by=user, topics=request.POST.getlist("topics"))
    messages.success(request, _("You follow %s.") % ticket.key)
    return redirect("web:ticket", key=ticket.key)


@login_required
def notices(request: HttpRequest) -> HttpResponse:
    """The person's notifications, newest first, unread ones marked; pages of fifty."""
    user = person(request)
    before = positive_int(request.GET.get("before", ""))
    rows = notify_selectors.notices_of(user=user, before=before, limit=NOTICES_PAGE + 1)
    more = len(rows) > NOTICES_PAGE
    rows = rows[:NOTICES_PAGE]
    return render(request, "web/notices.html", {
        "nav": "notices", "notices": rows, "next_before": rows[-1].pk if more else None,
        "unread": notify_selectors.unread_count(user=user),
    })


@login_required
@require_POST
def open_notice(request: HttpRequest, notice_id: int) -> HttpResponse:
    """Read one notification: marked read, then its ticket (or the list, for one about no
    ticket). Someone else's is not found."""
    user = person(request)
    notice = notify_selectors.notice_of(user=user, notice_id=notice_id)
    if notice is None:
        raise Http404
    notify.mark_notices_read(user=user, notice_ids=[notice.pk])
    if notice.ticket is not None:
        return redirect("web:ticket", key=notice.ticket.key)
    return redirect("web:notices")


@login_required
@require_POST
def mark_notices_read(request: HttpRequest) -> HttpResponse:
    """Mark the chosen notifications read (``notice``), or all of them (``all``)."""
    user = person(request)
    chosen = None if "all" in request.POST else [
        n for n in (positive_int(raw) for raw in request.POST.getlist("notice")) if n]
    marked = notify.mark_notices_read(user=user, notice_ids=chosen)
    messages.success(request, _("Marked read: %(count)d.") % {"count": marked})
    return redirect("web:notices")


@polled
def unread_count(request: HttpRequest) -> HttpResponse:
    """The navigation's count of unread notifications: 204 while it is still the one shown."""
    count = notify_selectors.unread_count(user=person(request))
    if request.GET.get("shown") == str(count):
        return unchanged()
    return render(request, "web/parts/unread_badge.html",
                  {"count": count, "live_seconds": live_seconds()})


class QuietHoursForm(forms.Form):
    quiet_start = forms.TimeField(required=False)
    quiet_end = forms.TimeField(required=False)


def _rows(user: User, posted: Any = None) -> list[dict[str, Any]]:
    """One row per way the person is reached, with the kinds it carries: their channels, and
    the account's mail address while none of them is on (notify mails them there then)."""
    everything = list(NotificationKind.values)
    channels: list[Channel] = list(user.notify_channels.order_by("pk"))
    rows: list[dict[str, Any]] = [
        {"name": f"channel-{c.pk}", "label": str(c), "channel": c,
         "chosen": (c.kinds or everything) if c.enabled else []} for c in channels]
    if not any(c.enabled for c in channels):
        prefs = notify.preferences_of(user)
        chosen = everything if prefs is None or prefs.email_kinds is None else prefs.email_kinds
        rows.append({"name": "email", "label": _("Mail to %s") % (user.email or "—"),
                     "chosen": chosen})
    if posted is not None:
        for row in rows:
            row["chosen"] = posted.getlist(row["name"])
    return rows


@login_required
def preferences(request: HttpRequest) -> HttpResponse:
    user = person(request)
    prefs = notify.preferences_of(user)
    initial = {"quiet_start": prefs.quiet_start, "quiet_end": prefs.quiet_end} if prefs else {}
    form = QuietHoursForm(request.POST or None, initial=initial)
    posted = request.POST if request.method == "POST" else None
    rows = _rows(user, posted)
    error = ""
    if posted is not None and form.is_valid():
        try:
            _save(user, rows, form.cleaned_data["quiet_start"], form.cleaned_data["quiet_end"])
        except ValidationError as exc:
            error = " ".join(exc.messages)
        else:
            messages.success(request, _("Notification preferences saved."))
            return redirect("web:notifications")
    return render(request, "web/notifications.html", {
        "nav": "preferences", "form": form, "rows": rows, "error": error,
        "kinds": NotificationKind.choices,
    }, status=200 if posted is None or (form.is_valid() and not error) else 422)


def _save(user: User, rows: list[dict[str, Any]], start: time | None, end: time | None) -> None:
    everything = set(NotificationKind.values)
    email = next((row for row in rows if row["name"] == "email"), None)
    email_kinds = None
    if email is not None and set(email["chosen"]) != everything:
        email_kinds = email["chosen"]
    notify.set_preferences(
        user=user, email_kinds=email_kinds, quiet_start=start, quiet_end=end,
        channel_kinds={row["channel"].pk: row["chosen"] for row in rows if "channel" in row})
