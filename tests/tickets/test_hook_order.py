"""The apps' ticket hooks run in the order their stages declare (tickets/hooks.py), whatever
order the apps are loaded in: a new ticket is routed, then its clocks started, then people told;
a change moves the clocks before anyone hears of it."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from django.apps import apps

from opsdesk.notify import conversation
from opsdesk.routing.services import route_new_tickets
from opsdesk.sla import services as sla
from opsdesk.tickets import hooks
from opsdesk.tickets.hooks import Stage, TicketChange


def empty(monkeypatch: pytest.MonkeyPatch) -> None:
    """No hook registered, until the test ends."""
    for name in ("_after_change", "_after_creation"):
        monkeypatch.setattr(hooks, name, [])
    for name in ("_change_stages", "_creation_stages"):
        monkeypatch.setattr(hooks, name, {})


@pytest.fixture
def empty_registries(monkeypatch: pytest.MonkeyPatch) -> None:
    empty(monkeypatch)


@pytest.mark.usefixtures("empty_registries")
def test_hooks_run_stage_after_stage_whatever_order_they_were_registered_in() -> None:
    heard: list[str] = []

    def hook(name: str) -> hooks.Hook:
        return lambda change: heard.append(name)

    hooks.on_ticket_change(hook("reviews"), stage=Stage.REVIEWS)
    hooks.on_ticket_change(hook("notifications"), stage=Stage.NOTIFICATIONS)
    hooks.on_ticket_change(hook("routing"), stage=Stage.ROUTING)
    hooks.on_ticket_change(hook("service levels"), stage=Stage.SERVICE_LEVELS)
    hooks.run_hooks(None)  # type: ignore[arg-type]
    assert heard == ["routing", "service levels", "notifications", "reviews"]


@pytest.mark.usefixtures("empty_registries")
def test_a_stage_runs_one_hook_so_that_no_two_depend_on_the_apps_order() -> None:
    def start_clocks(changes: Sequence[TicketChange]) -> None: ...

    def start_other_clocks(changes: Sequence[TicketChange]) -> None: ...

    hooks.on_tickets_created(start_clocks, stage=Stage.SERVICE_LEVELS)
    hooks.on_tickets_created(start_clocks, stage=Stage.SERVICE_LEVELS)  # again: no harm
    with pytest.raises(ValueError, match=r"SERVICE_LEVELS already runs .*start_clocks"):
        hooks.on_tickets_created(start_other_clocks, stage=Stage.SERVICE_LEVELS)
    assert hooks._after_creation == [start_clocks]


def test_the_desks_hooks_run_in_the_declared_order_even_if_the_apps_load_in_reverse(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    loaded = (list(hooks._after_creation), list(hooks._after_change))
    assert loaded[0] == [route_new_tickets, sla.start_clocks, conversation.on_tickets_created]
    assert loaded[1].index(sla.on_ticket_change) < loaded[1].index(conversation.on_ticket_change)

    empty(monkeypatch)
    for config in reversed(list(apps.get_app_configs())):
        if config.name.startswith("opsdesk."):
            config.ready()
    assert (hooks._after_creation, hooks._after_change) == loaded
