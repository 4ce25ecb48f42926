"""Configuration kept in memory follows an admin's edit, in this process and in the others."""

from __future__ import annotations

import pytest
from django.db import connection, transaction

from opsdesk.runtime import config
from opsdesk.tickets.choices import Priority
from opsdesk.tickets.models import PriorityRule
from opsdesk.tickets.priority import priority_for

pytestmark = pytest.mark.django_db


def test_an_edit_here_applies_to_the_next_ticket():
    assert priority_for(impact="none", urgency="low") == Priority.LOW

    cell = PriorityRule.objects.get(impact="none", urgency="low")
    cell.priority = Priority.MEDIUM
    cell.save()

    assert priority_for(impact="none", urgency="low") == Priority.MEDIUM


def test_an_edit_in_another_process_applies_at_the_next_read(django_assert_num_queries):
    assert priority_for(impact="none", urgency="low") == Priority.LOW
    with django_assert_num_queries(1):  # only the generation check
        priority_for(impact="none", urgency="low")

    # Another process saves a rule: the row and the generation change in the database, and
    # this process's memory is not told.
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE tickets_priorityrule SET priority = %s WHERE impact = %s AND urgency = %s",
            [int(Priority.HIGH), "none", "low"],
        )
    generation = config.generation()
    with connection.cursor() as cursor:
        cursor.execute("UPDATE runtime_configgeneration SET value = value + 1 WHERE id = 1")
        if cursor.rowcount == 0:
            cursor.execute("INSERT INTO runtime_configgeneration (id, value) VALUES (1, 1)")

    assert config.generation() == generation + 1
    assert priority_for(impact="none", urgency="low") == Priority.HIGH


def test_a_batch_of_work_reads_the_generation_once(django_assert_num_queries):
    priority_for(impact="none", urgency="low")
    with config.one_read(), django_assert_num_queries(1):
        for _ in range(3):
            priority_for(impact="none", urgency="low")
    with django_assert_num_queries(1):  # outside the block, each read checks again
        priority_for(impact="none", urgency="low")


def test_a_change_rolled_back_here_never_passes_for_another_process_change():
    assert priority_for(impact="none", urgency="low") == Priority.LOW
    cell = PriorityRule.objects.get(impact="none", urgency="low")
    with pytest.raises(RuntimeError), transaction.atomic():
        cell.priority = Priority.MEDIUM
        cell.save()
        # Read (and kept) under the generation this change would make.
        assert priority_for(impact="none", urgency="low") == Priority.MEDIUM
        would_have_been = config.generation()
        raise RuntimeError("the rest of the admin's form failed")

    # Another process commits a change of its own: this process's memory is not told.
    config.bump()

    assert config.generation() != would_have_been
    assert priority_for(impact="none", urgency="low") == Priority.LOW


def test_modules_are_read_from_memory_and_follow_a_rename(django_assert_num_queries):
    from opsdesk.accounts.selectors import get_module_by_ref
    from tests.factories import ModuleFactory

    module = ModuleFactory(code="billing", name="计费模块")
    assert get_module_by_ref("billing") == module
    with config.one_read(), django_assert_num_queries(1):  # the generation, as a request
        assert get_module_by_ref("计费模块") == get_module_by_ref(module.pk) == module
        assert get_module_by_ref("nope") is None

    module.name = "账务模块"
    module.save()

    assert get_module_by_ref("账务模块") == module
    assert get_module_by_ref("计费模块") is None
    assert get_module_by_ref("billing").name == "账务模块"


def test_the_people_a_form_offers_follow_a_new_role_and_a_departure(django_assert_num_queries):
    from django.contrib.auth.models import Group

    from opsdesk.accounts.roles import Role
    from opsdesk.accounts.selectors import module_names, people_with_roles
    from tests.factories import ModuleFactory, UserFactory

    ModuleFactory(code="billing", name="计费模块")
    engineer = UserFactory(username="wang.wei", display_name="王伟", roles=[Role.SUPPORT])
    offered, modules = people_with_roles([Role.SUPPORT, Role.DEVELOPER]), module_names()
    assert ("wang.wei", "王伟", frozenset({Role.SUPPORT})) in offered
    with config.one_read(), django_assert_num_queries(1):  # the generation, as a page
        assert people_with_roles([Role.DEVELOPER, Role.SUPPORT]) == offered
        assert module_names() == modules
        assert ("billing", "计费模块") in modules

    engineer.groups.add(Group.objects.get(name=Role.DEVELOPER))
    assert ("wang.wei", "王伟", frozenset({Role.SUPPORT, Role.DEVELOPER})) in people_with_roles(
        [Role.SUPPORT, Role.DEVELOPER])

    engineer.is_active = False
    engineer.save()
    assert "wang.wei" not in {username for username, *_ in
                              people_with_roles([Role.SUPPORT, Role.DEVELOPER])}
