"""The administration pages under /manage/ (included by opsdesk.web.urls, namespace web)."""

from django.urls import path

from opsdesk.web.views import (
    admin_integrations,
    admin_modules,
    admin_people,
    admin_roster,
    admin_routing,
    admin_sla,
)

urlpatterns = [
    path("roster/", admin_roster.week, name="manage_roster"),
    path("roster/<id:shift_id>/", admin_roster.shift, name="manage_shift"),
    path("roster/<id:shift_id>/pick", admin_roster.pick, name="manage_shift_pick"),
    path("roster/<id:shift_id>/delete", admin_roster.remove, name="manage_shift_remove"),
]
urlpatterns += [
    path("routing/", admin_routing.rule_list, name="manage_routing"),
    path("routing/new/", admin_routing.new_rule, name="manage_new_rule"),
    path("routing/<id:rule_id>/", admin_routing.edit_rule, name="manage_rule"),
    path("routing/<id:rule_id>/move", admin_routing.move_rule, name="manage_move_rule"),
    path("routing/<id:rule_id>/delete", admin_routing.delete_rule, name="manage_delete_rule"),
]
urlpatterns += [
    path("sla/", admin_sla.overview, name="manage_sla"),
    path("sla/policies/new/", admin_sla.new_policy, name="manage_new_policy"),
    path("sla/policies/<id:policy_id>/", admin_sla.edit_policy, name="manage_policy"),
    path("sla/policies/<id:policy_id>/delete", admin_sla.delete_policy,
         name="manage_delete_policy"),
    path("sla/calendars/<id:calendar_id>/", admin_sla.calendar_year, name="manage_calendar"),
    path("sla/calendars/<id:calendar_id>/days", admin_sla.calendar_day,
         name="manage_calendar_day"),
    path("sla/calendars/<id:calendar_id>/hours", admin_sla.calendar_hours,
         name="manage_calendar_hours"),
]
urlpatterns += [
    path("modules/", admin_modules.module_list, name="manage_modules"),
    path("modules/new/", admin_modules.new_module, name="manage_new_module"),
    path("modules/<id:module_id>/", admin_modules.edit_module, name="manage_module"),
    path("modules/<id:module_id>/delete", admin_modules.delete_module,
         name="manage_delete_module"),
]
urlpatterns += [
    path("people/", admin_people.person_list, name="manage_people"),
    path("people/new/", admin_people.new_person, name="manage_new_person"),
    path("people/<id:user_id>/", admin_people.edit_person, name="manage_person"),
]
urlpatterns += [
    path("integrations/", admin_integrations.integration_list, name="manage_integrations"),
    path("integrations/new/", admin_integrations.new_integration,
         name="manage_new_integration"),
    path("integrations/<id:integration_id>/", admin_integrations.edit_integration,
         name="manage_integration"),
    path("integrations/<id:integration_id>/secret", admin_integrations.rotate,
         name="manage_rotate_secret"),
]
