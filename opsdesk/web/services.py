"""Writes of the web workspace: saved views."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

from django.db import transaction
from django.utils.translation import gettext as _

from opsdesk.accounts.models import User
from opsdesk.tickets.errors import InvalidField
from opsdesk.web.models import SavedView

# Parameters that are a position in a list, not part of what a view shows.
NOT_SAVED = frozenset({"cursor", "partial", "seen"})


@transaction.atomic
def save_view(*, owner: User, name: str, query: str) -> SavedView:
    """Save (or overwrite) ``owner``'s view ``name`` as the given workspace query string."""
    name = name.strip()
    if not name:
        raise InvalidField(_("Give the view a name."), field="name")
    if len(name) > SavedView._meta.get_field("name").max_length:  # type: ignore[operator]
        raise InvalidField(_("The name is too long."), field="name")
    kept = urlencode([(k, v) for k, v in parse_qsl(query) if k not in NOT_SAVED and v])
    view, _created = SavedView.objects.update_or_create(
        owner=owner, name=name, defaults={"query": kept[:1000]}
    )
    return view


def delete_view(*, owner: User, view_id: int) -> None:
    """Remove one of ``owner``'s saved views (someone else's is left alone)."""
    SavedView.objects.filter(owner=owner, pk=view_id).delete()

