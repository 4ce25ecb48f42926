"""Roles read for many people at once (routing a batch of new tickets checks each assignee's):
one query, the same answers as reading each person's groups."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from opsdesk.accounts.models import User
from opsdesk.accounts.roles import Role
from opsdesk.accounts.selectors import load_roles

pytestmark = pytest.mark.django_db


def test_roles_of_several_people_are_read_in_one_query(
    make_user: Callable[..., User],
) -> None:
    made = [make_user(Role.SUPPORT), make_user(Role.OWNER, Role.DUTY),
            make_user(), make_user(is_superuser=True)]
    expected = [User.objects.get(pk=user.pk).roles for user in made]
    fresh = list(User.objects.filter(pk__in=[u.pk for u in made]).order_by("pk"))
    with CaptureQueriesContext(connection) as queries:
        load_roles(fresh)
        found = [user.roles for user in fresh]
        assert fresh[1].has_role(Role.OWNER) and not fresh[2].has_role(Role.ADMIN)
    assert len(queries) == 1
    assert found == expected
    assert found[2] == frozenset() and Role.ADMIN in found[3]


def test_people_whose_roles_are_known_are_not_read_again(make_user: Callable[..., User]) -> None:
    known = make_user(Role.SUPPORT)
    assert known.roles == {Role.SUPPORT}
    with CaptureQueriesContext(connection) as queries:
        load_roles([known])
    assert len(queries) == 0
