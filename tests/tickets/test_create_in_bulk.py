"""Filing in bulk (``create_tickets``, an alert storm or a mail import): every ticket gets its
key, its 'created' event, its SLA clock and its routing, medium work is spread over the support
engineers as if filed one by one, what no rule can place waits for the duty engineer on shift,
one bad registration files nothing, and the batch ends as the same tickets filed one by one."""

from __future__ import annotations

from collections import Counter
from contextlib import suppress
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import transaction
from django.utils import translation
from django_tasks_db.models import DBTaskResult

from opsdesk.accounts.models import ModuleSupport
from opsdesk.accounts.roles import Role
from opsdesk.notify.models import Delivery
from opsdesk.routing.models import AssignTo, DutyShift, RoutingRule
from opsdesk.sla.models import Clock
from opsdesk.tickets import services
from opsdesk.tickets.errors import InvalidField, PermissionRefused
from opsdesk.tickets.models import Ticket, TimelineEvent
from opsdesk.web.timeline import entry
from tests.factories import report

pytestmark = pytest.mark.django_db

SH = ZoneInfo("Asia/Shanghai")
WEDNESDAY_MORNING = datetime(2026, 11, 18, 10, 0, tzinfo=SH)
URGENT = {"impact": "all_users", "urgency": "immediate"}
RULE = {"medium": "medium-low-to-support", "urgent": "urgent-high-to-module-owner"}


def spec(**fields):
    """A medium problem in the payment module (few users, high urgency), reported complete,
    unless told."""
    return report(**{"title": "支付回调超时", "impact": "few_users", "urgency": "high",
                     "module": "payment", **fields})


@pytest.fixture
def engineers(people, payment, make_user):
    """Two support engineers for the payment module."""
    second = make_user(Role.SUPPORT, display_name="钱芳")
    for engineer in (people["support"], second):
        ModuleSupport.objects.create(module=payment, problem_type="code", engineer=engineer)
    return [people["support"], second]


def assigned_to(user):
    return set(Delivery.objects.filter(notification_kind="assigned", recipient=user)
               .values_list("ticket_id", flat=True))


def routing_of(ticket):
    return list(TimelineEvent.objects.filter(ticket=ticket, kind__in=("transition", "routing")))


def test_each_ticket_of_a_batch_has_its_key_created_event_clock_and_routing(
    api, people, engineers
):
    specs = [spec(), spec(**URGENT), spec(module=None)] * 2
    with time_machine.travel(WEDNESDAY_MORNING, tick=False):
        tickets = services.create_tickets(by=people["submitter"], specs=specs)
    assert len({ticket.key for ticket in tickets}) == 6 == Ticket.objects.count()
    for ticket in tickets:
        timeline = api["duty"].timeline(ticket.key)
        assert [e["kind"] for e in timeline].count("created") == 1
        [sla] = [e for e in timeline if e["kind"] == "sla"]
        assert sla["data"]["event"] == "started" and sla["data"]["resolution_due_at"]
        clock = Clock.objects.get(ticket=ticket)
        assert clock.started_at == WEDNESDAY_MORNING < clock.response_due_at
        assert clock.resolution_due_at > clock.response_due_at
        [routing] = [e for e in timeline if e["kind"] in ("transition", "routing")]
        shown = api["duty"].read(ticket.key)
        if ticket.module is None:
            assert routing["kind"] == "routing" and shown["status"] == "new"
            assert routing["data"]["duty_engineer"] == people["duty"].username
        else:
            assert routing["data"]["rule"] == RULE[ticket.priority_code]
            assert shown["assignee"]["username"] == ticket.assignee.username
    # One SLA timer per clock, written with the tickets.
    timers = DBTaskResult.objects.filter(task_path__endswith="check_ticket_sla")
    assert sorted(t.args_kwargs["args"][0] for t in timers) == sorted(t.pk for t in tickets)


def test_a_batch_spreads_medium_work_evenly_and_urgent_work_goes_to_the_module_owner(
    people, engineers
):
    specs = [spec() for _ in range(6)] + [spec(**URGENT) for _ in range(2)]
    tickets = services.create_tickets(by=people["submitter"], specs=specs)
    medium, urgent = tickets[:6], tickets[6:]
    assert Counter(t.assignee for t in medium) == {engineers[0]: 3, engineers[1]: 3}
    assert {t.assignee for t in urgent} == {people["owner"]}
    stored = Ticket.objects.in_bulk([t.pk for t in tickets])
    for ticket in tickets:
        assert stored[ticket.pk].status == "assigned"
        assert stored[ticket.pk].assignee_id == ticket.assignee_id
        [event] = routing_of(ticket)
        assert event.kind == "transition" and event.actor is None
        assert event.data["rule"] == RULE[ticket.priority_code]
        assert event.data["changed"]["assignee"]["to"]["id"] == ticket.assignee_id
    # Each assignee is told once per ticket, about their own tickets only.
    for person in (people["owner"], *engineers):
        mine = [t.pk for t in tickets if t.assignee == person]
        assert Delivery.objects.filter(notification_kind="assigned", recipient=person).count() \
            == len(mine)
        assert assigned_to(person) == set(mine)


def test_what_no_rule_places_waits_for_the_duty_engineer_on_shift(people, make_user):
    night_duty = make_user(Role.DUTY, display_name="夜班 郑超")
    now = datetime(2026, 11, 18, 23, 0, tzinfo=SH)
    DutyShift.objects.create(starts_at=now - timedelta(hours=3), ends_at=now + timedelta(hours=9),
                             engineer=night_duty, backup=people["duty"])
    with time_machine.travel(now, tick=False):
        tickets = services.create_tickets(by=people["submitter"], specs=[spec(module=None)] * 3)
    for ticket in tickets:
        ticket.refresh_from_db()
        assert ticket.status == "new" and ticket.assignee is None
        [note] = routing_of(ticket)
        assert note.kind == "routing" and note.internal
        assert note.data["duty_engineer"] == night_duty.username
    triage = Delivery.objects.filter(notification_kind="triage_needed")
    assert sorted(triage.values_list("recipient", "ticket")) == [
        (night_duty.pk, t.pk) for t in tickets]


def test_with_nobody_on_duty_nothing_is_sent_and_the_note_says_so(people):
    people["duty"].is_active = False
    people["duty"].save()
    alert = spec(module=None, source_kind="alert", submitter_name="Alertmanager")
    tickets = services.create_tickets(by=None, specs=[alert] * 3)
    assert not Delivery.objects.exists()
    for ticket in tickets:
        [note] = routing_of(ticket)
        assert note.data["duty_engineer"] is None
        with translation.override("en"):  # said in the reader's language when read
            assert "nobody on duty" in entry(note).text


@pytest.mark.parametrize(("bad", "error"), [
    ({"title": "   "}, InvalidField),
    ({"colour": "red"}, InvalidField),
    ({"priority": "urgent"}, PermissionRefused),  # a submitter may not set it
])
def test_one_bad_registration_files_nothing(people, engineers, bad, error):
    specs = [spec(), spec(**URGENT), spec(module=None), spec(), spec(), spec(**bad)]
    with pytest.raises(error):
        services.create_tickets(by=people["submitter"], specs=specs)
    for model in (Ticket, TimelineEvent, Clock, Delivery, DBTaskResult):
        assert not model.objects.exists(), model


class _Undo(Exception):
    pass


def outcome_of(file):
    """Who got which ticket, in what state and priority; undone, so the next way of filing
    starts from the same desk."""
    with suppress(_Undo), transaction.atomic():
        pks = [ticket.pk for ticket in file()]
        rows = Ticket.objects.filter(pk__in=pks).order_by("pk")
        outcome = list(rows.values_list("assignee", "status", "priority"))
        raise _Undo
    return outcome


def test_a_batch_ends_as_if_its_tickets_were_filed_one_by_one(people, engineers):
    services.create_ticket(by=people["submitter"], **spec())  # the first engineer is busier
    specs = [spec(), spec(**URGENT), spec(urgency="low"), spec(module=None), spec(),
             spec(impact="some_users"), spec(), spec(problem_type="code"), spec(**URGENT)]
    by = people["submitter"]
    one_by_one = outcome_of(lambda: [services.create_ticket(by=by, **s) for s in specs])
    in_bulk = outcome_of(lambda: services.create_tickets(by=by, specs=specs))
    assert in_bulk == one_by_one
    assignees = Counter(assignee for assignee, _status, _priority in in_bulk)
    assert assignees == {engineers[0].pk: 2, engineers[1].pk: 3, people["owner"].pk: 3, None: 1}


def test_work_a_rule_gives_by_name_counts_when_the_batch_spreads_the_rest(people, engineers):
    RoutingRule.objects.create(name="alerts-to-support", order=1, source_kinds=["alert"],
                               assign_to=AssignTo.USER, user=engineers[0])
    alert = spec(source_kind="alert", submitter_name="Alertmanager")
    specs = [alert, alert, spec(), spec(), spec(), spec()]
    by = people["duty"]
    one_by_one = outcome_of(lambda: [services.create_ticket(by=by, **s) for s in specs])
    in_bulk = outcome_of(lambda: services.create_tickets(by=by, specs=specs))
    # One by one, the two alerts make the first engineer busier: the second takes 3 of 4.
    assert Counter(assignee for assignee, *_rest in one_by_one) == {
        engineers[0].pk: 3, engineers[1].pk: 3}
    assert in_bulk == one_by_one
