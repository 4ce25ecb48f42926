from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from opsdesk.accounts.models import ApiToken, Module, ModuleSupport, User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ("username", "display_name", "department", "email", "is_active")
    search_fields = ("username", "display_name", "email", "department")
    fieldsets = (
        *(BaseUserAdmin.fieldsets or ()),
        (
            _("opsdesk"),
            {"fields": ("display_name", "department", "phone", "language", "time_zone")},
        ),
    )


class ModuleSupportInline(admin.TabularInline):
    model = ModuleSupport
    extra = 1
    autocomplete_fields = ("engineer",)


@admin.register(Module)
class ModuleAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "owner")
    search_fields = ("code", "name")
    autocomplete_fields = ("owner",)
    inlines = (ModuleSupportInline,)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("name", "user", "prefix", "created_at", "last_used_at", "revoked_at")
    readonly_fields = ("prefix", "digest", "created_at", "last_used_at")
    exclude = ("digest",)

    def has_add_permission(self, request: object) -> bool:
        # A token is created with `opsdesk token create`, which shows the secret once.
        return False
