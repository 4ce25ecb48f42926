"""Integrations (secret shown once, rotated by an action), inbound messages read-only with a
replay action (a partly rejected notification names each refused alert and why; its replay
takes up only those), the alerts seen, with the alerts of their groups, and the webhook reports
received."""

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from opsdesk.errors import DomainError
from opsdesk.intake import integrations, payloads
from opsdesk.intake.mail import admin as mail_admin
from opsdesk.intake.models import (
    Alert,
    GroupedAlert,
    InboundMessage,
    Integration,
    IntegrationKind,
    WebhookReport,
)
from opsdesk.tickets.choices import Channel


@admin.register(Integration)
class IntegrationAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "enabled", "secret_prefix", "created_at")
    readonly_fields = ("secret_prefix", "endpoint")
    actions = ("rotate_secret",)

    @admin.display(description=gettext_lazy("endpoint"))
    def endpoint(self, obj: Integration) -> str:
        if obj.kind == IntegrationKind.WEBHOOK:
            return f"/api/v1/intake/webhook/{obj.name}"
        return f"/api/v1/intake/{obj.kind}" if obj.kind else ""

    def save_model(self, request: HttpRequest, obj: Integration, form: Any, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        created, secret = integrations.create_integration(
            name=obj.name, kind=obj.kind, options=obj.options, enabled=obj.enabled
        )
        obj.pk = created.pk
        self._show_secret(request, created, secret)

    @admin.action(description=gettext_lazy("Give the selected integrations a new secret"))
    def rotate_secret(self, request: HttpRequest, queryset: QuerySet[Integration]) -> None:
        for integration in queryset:
            self._show_secret(request, integration,
                              integrations.rotate_secret(integration=integration))

    def _show_secret(self, request: HttpRequest, integration: Integration, secret: str) -> None:
        messages.warning(request, _("The secret of %(name)s, shown only now: %(secret)s")
                         % {"name": integration.name, "secret": secret})
        options = integration.options if isinstance(integration.options, dict) else {}
        if integration.kind == IntegrationKind.WEBHOOK and options.get("signature_header"):
            messages.warning(request, _(
                "The signing key of %(name)s (HMAC-SHA256 of the body, sent in the %(header)s "
                "header), shown only now: %(key)s"
            ) % {"name": integration.name, "header": options["signature_header"],
                 "key": integrations.signing_key(integration)})


@admin.register(InboundMessage)
class InboundMessageAdmin(admin.ModelAdmin):
    list_display = ("id", "channel", "integration", "status", "received_at", "attempts", "error")
    list_filter = ("status", "channel")
    readonly_fields = ("integration", "channel", "received_at", "remote_addr", "content_type",
                       "payload", "status", "error", "processed_at", "attempts", "result")
    exclude = ("body",)
    actions = ("replay",)

    @admin.display(description=gettext_lazy("payload"))
    def payload(self, obj: InboundMessage) -> str:
        if obj.channel == Channel.EMAIL:
            return mail_admin.preview(bytes(obj.body))
        return bytes(obj.body).decode("utf-8", errors="replace")

    @admin.action(description=gettext_lazy("Replay the selected messages"))
    def replay(self, request: HttpRequest, queryset: QuerySet[InboundMessage]) -> None:
        for pk in queryset.order_by("pk").values_list("pk", flat=True):
            try:
                payloads.replay(message_id=pk)
            except DomainError as error:
                self.message_user(request, f"#{pk}: {error.message}", messages.ERROR)
            except Exception as error:  # recorded on the message as "failed"
                self.message_user(request, f"#{pk}: {type(error).__name__}: {error}",
                                  messages.ERROR)
            else:
                self.message_user(request, _("#%s processed.") % pk)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


class GroupedAlertInline(admin.TabularInline):
    model = GroupedAlert
    fields = readonly_fields = ("fingerprint", "firing", "labels", "starts_at", "ends_at",
                                "last_seen")
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):
    list_display = ("identity", "integration", "ticket", "firing", "occurrences", "last_seen",
                    "acknowledged_by")
    list_filter = ("firing", "integration")
    readonly_fields = [f.name for f in Alert._meta.fields]
    inlines = (GroupedAlertInline,)


@admin.register(WebhookReport)
class WebhookReportAdmin(admin.ModelAdmin):
    list_display = ("idempotency_key", "integration", "ticket", "external_id", "deliveries",
                    "last_seen")
    list_filter = ("integration",)
    search_fields = ("idempotency_key", "external_id")
    readonly_fields = [f.name for f in WebhookReport._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
