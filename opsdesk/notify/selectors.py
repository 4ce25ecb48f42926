"""Reads for notifications' people: teams."""

from __future__ import annotations

from opsdesk.accounts.models import User
from opsdesk.notify.models import Team


def teammate_ids(user: User) -> tuple[int, ...]:
    """Everyone who shares a team with ``user`` (``user`` included when in any team)."""
    members = Team.members.through.objects.filter(team__members=user)
    return tuple(sorted(set(members.values_list("user_id", flat=True))))
