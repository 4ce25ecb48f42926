"""Admin for teams, channels and deliveries.

A channel's target is write-only here: lists and forms show it masked, and an empty field on
save keeps the stored one, so opening a robot's channel never reveals its URL. Deliveries are
a record: read-only, with one operator action, "retry now", which goes through the service.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from opsdesk.admin_mixins import ReadOnlyAdminMixin
from opsdesk.notify import services
from opsdesk.notify.choices import NotificationKind
from opsdesk.notify.models import Channel, Delivery, Team


class ChannelForm(forms.ModelForm):
    target = forms.CharField(
        label=_("address"), required=False, max_length=1000,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
    )
    kinds = forms.MultipleChoiceField(
        label=_("notification kinds"), choices=NotificationKind.choices, required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("The notifications this channel wants. None ticked: all of them."),
    )

    class Meta:
        model = Channel
        fields = ("user", "team", "kind", "target", "enabled", "kinds")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["target"].help_text = _(
                "Now: %(masked)s. Leave empty to keep it; type a new one to replace it."
            ) % {"masked": self.instance.masked_target}

    def clean_target(self) -> str:
        target: str = self.cleaned_data["target"].strip()
        if not target and self.instance.pk:
            return self.instance.target
        if not target:
            raise forms.ValidationError(_("The address is required."))
        return target


class ChannelInline(admin.TabularInline):
    model = Channel
    form = ChannelForm
    fk_name = "team"
    extra = 0
    fields = ("kind", "target", "enabled", "kinds")


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("name", "language", "time_zone")
    search_fields = ("name",)
    filter_horizontal = ("members",)
    inlines = (ChannelInline,)


@admin.register(Channel)
class ChannelAdmin(admin.ModelAdmin):
    form = ChannelForm
    list_display = ("owner", "kind", "masked_target", "enabled", "kinds")
    list_filter = ("kind", "enabled")
    list_select_related = ("user", "team")
    # Searching by target would let anyone with the admin guess a URL one character at a time.
    search_fields = ("user__username", "user__display_name", "team__name")
    autocomplete_fields = ("user", "team")

    @admin.display(description=_("address"))
    def masked_target(self, channel: Channel) -> str:
        return channel.masked_target

    @admin.display(description=_("for"))
    def owner(self, channel: Channel) -> str:
        return str(channel.owner)


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "created_at", "notification_kind", "ticket", "recipient_name", "channel_kind",
        "status", "attempts", "next_attempt_at", "sent_at",
    )
    list_filter = ("status", "notification_kind", "channel_kind", "language")
    search_fields = ("notification_key", "recipient_name", "address", "subject")
    list_select_related = ("ticket",)
    date_hierarchy = "created_at"
    actions = ("retry_now",)
    # The channel is shown as its masked __str__; raw ids avoid loading every channel.
    readonly_fields = (
        "notification_kind", "notification_key", "dedupe_key", "ticket", "recipient", "team",
        "recipient_name", "channel", "channel_kind", "address", "language", "subject", "body",
        "status", "attempts", "last_error", "next_attempt_at", "sent_at", "created_at",
    )

    def has_retry_permission(self, request: HttpRequest) -> bool:
        # Retrying writes, so it takes the change permission the read-only admin never uses.
        return request.user.has_perm("notify.change_delivery")

    @admin.action(description=_("Retry now"), permissions=["retry"])
    def retry_now(self, request: HttpRequest, queryset: QuerySet[Delivery]) -> None:
        ids = list(queryset.values_list("pk", flat=True))
        for delivery_id in ids:
            services.retry_delivery(delivery_id=delivery_id)
        self.message_user(
            request,
            ngettext("%d delivery queued again.", "%d deliveries queued again.", len(ids))
            % len(ids),
            messages.SUCCESS,
        )
