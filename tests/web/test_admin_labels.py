"""The Django admin, kept for the rare rest, speaks the reader's language: every field of every
model it shows is labelled through gettext (no 'ENGINEER', 'PREFIX', 'CREATED AT' derived from
code), other packages' apps are named, and a constraint refused says so in words."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.contrib import admin
from django.db import models
from django.utils import translation
from django.utils.functional import Promise

from opsdesk.accounts.roles import Role
from opsdesk.routing.models import DutyShift, RoutingRule
from opsdesk.sla.models import SlaPolicy
from opsdesk.web.admin import APP_NAMES
from tests.web.conftest import text


def shown_models():
    for model, model_admin in admin.site._registry.items():
        if model._meta.app_config.name.startswith("opsdesk."):
            yield model
            yield from (inline.model for inline in model_admin.inlines)


def test_every_field_the_admin_shows_is_labelled_through_gettext():
    unlabelled = [
        f"{model._meta.label}.{field.name}"
        for model in shown_models()
        for field in model._meta.get_fields()
        if (field.concrete or field.many_to_many) and not field.auto_created
        and not isinstance(field.verbose_name, Promise)]
    assert unlabelled == []
    assert all(isinstance(model._meta.verbose_name_plural, Promise) for model in shown_models())


def test_every_check_constraint_refuses_in_words():
    silent = [f"{model._meta.label}: {constraint.name}"
              for model in shown_models() for constraint in model._meta.constraints
              if isinstance(constraint, models.CheckConstraint)
              and constraint.violation_error_message == constraint.default_violation_error_message]
    assert silent == []


@pytest.fixture
def admin_browser(admin_user, browser_as):
    return lambda language="zh-hans": browser_as(admin_user, language)


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_other_packages_apps_are_named_in_the_reader_s_language(admin_browser, language):
    page = text(admin_browser(language).get("/admin/"))
    with translation.override(language):
        assert all(str(name) in page for name in APP_NAMES.values())
        assert str(translation.gettext("Task Results")) in page
        assert translation.gettext("opsdesk administration (all settings)") in page
    assert "Tasks Database Backend" not in page


def test_a_shift_ending_before_it_starts_is_refused_in_words_in_the_admin(
        admin_browser, make_user):
    duty = make_user(Role.DUTY, display_name="张伟")
    response = admin_browser().post("/admin/routing/dutyshift/add/", {
        "starts_at_0": "2026-12-07", "starts_at_1": "21:00:00",
        "ends_at_0": "2026-12-07", "ends_at_1": "09:00:00", "engineer": duty.pk})
    page = text(response)
    with translation.override("zh-hans"):
        expected = translation.gettext(
            "The shift ends (%(end)s) before it starts (%(start)s): give an end after the "
            "start; a night shift ends on the next day.") % {
                "end": "2026-12-07 09:00", "start": "2026-12-07 21:00"}
        assert expected in page
        assert translation.gettext("A shift ends after it starts.") not in page
    assert "shift_ends_after_start" not in page


def test_a_warning_out_of_range_is_refused_in_words_in_the_admin(admin_browser):
    policy = SlaPolicy.objects.get(priority=4)
    response = admin_browser("en").post(f"/admin/sla/slapolicy/{policy.pk}/change/", {
        "name": policy.name, "order": policy.order, "enabled": "on", "priority": 4,
        "source_kind": "", "module": "", "response_amount": "2", "response_unit": "hours",
        "resolution_amount": "10", "resolution_unit": "business_days",
        "calendar": policy.calendar_id, "warning_fraction": "1.5"})
    page = text(response)
    assert "Warn when a fraction between 0 and 1 of a target has run, e.g. 0.75." in page
    assert "sla_policy_warning_fraction_between_0_and_1" not in page


def test_the_module_page_labels_its_support_engineers(admin_browser, payment):
    page = text(admin_browser("en").get(f"/admin/accounts/module/{payment.pk}/change/"))
    assert "Support engineer" in page and ">Engineer<" not in page


def test_an_overlapping_shift_is_named_in_the_admin_too(admin_browser, make_user):
    duty = make_user(Role.DUTY, display_name="张伟")
    DutyShift.objects.create(starts_at=datetime(2026, 12, 7, 1, tzinfo=UTC),
                             ends_at=datetime(2026, 12, 7, 13, tzinfo=UTC), engineer=duty)
    response = admin_browser("en").post("/admin/routing/dutyshift/add/", {
        "starts_at_0": "2026-12-07", "starts_at_1": "20:00:00",
        "ends_at_0": "2026-12-08", "ends_at_1": "08:00:00", "engineer": duty.pk})
    assert "It overlaps 张伟&#x27;s shift from 2026-12-07 09:00 to 2026-12-07 21:00" in \
        text(response)
    assert DutyShift.objects.count() == 1


def test_the_admin_s_routing_rules_are_ticked_from_lists_not_typed_as_json(admin_browser):
    client = admin_browser("en")
    listing = text(client.get("/admin/routing/routingrule/"))
    assert "Urgent, High" in listing and "[&#x27;urgent&#x27;" not in listing
    response = client.post("/admin/routing/routingrule/add/", {
        "name": "alerts", "order": "5", "enabled": "on", "priorities": ["urgent"],
        "source_kinds": ["alert"], "problem_types": ["environment"],
        "assign_to": "duty_triage"})
    assert response.status_code == 302, text(response)
    rule = RoutingRule.objects.get(name="alerts")
    assert (rule.priorities, rule.source_kinds, rule.problem_types) == (
        ["urgent"], ["alert"], ["environment"])
