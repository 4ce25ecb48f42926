"""The mail each message became (read-only): what opened which ticket or comment."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext as _

from opsdesk.intake.mail.models import MailMessage
from opsdesk.intake.mail.parsing import parse


@admin.register(MailMessage)
class MailMessageAdmin(admin.ModelAdmin):
    list_display = ("received_at", "sender", "subject", "outcome", "ticket", "inbound")
    list_filter = ("outcome",)
    search_fields = ("sender", "subject", "message_id")
    readonly_fields = [f.name for f in MailMessage._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


def preview(raw: bytes) -> str:
    """A mail as its reader saw it (sender, subject, text, files), for the inbound message
    page: the raw bytes of a GBK or Big5 mail are unreadable there."""
    try:
        mail = parse(raw)
    except Exception as error:  # the page must open whatever the message holds
        return f"({type(error).__name__}: {error})\n\n" + raw.decode("utf-8", errors="replace")
    files = ", ".join(f"{a.name} ({len(a.content)} B)" for a in mail.attachments)
    date = f"Date: {mail.date_header}"
    if mail.sent_at is None:
        date += " " + _("(not a usable time: the arrival time stands for it)")
    lines = [f"From: {mail.sender_name} <{mail.sender_email}>", f"Subject: {mail.subject}",
             date, f"Message-ID: {mail.message_id}"]
    if files:
        lines.append(f"Files: {files}")
    return "\n".join(lines) + "\n\n" + mail.text
