"""Random sequences of actions, by random people, with right and wrong fields, driven through the
services: whatever happens, the procedure's invariants hold.

- the status is always a state of the workflow table, reached only the way the table allows;
- nothing reaches in_progress on a plan that needs approval and has none, and no work-log step
  is accepted before the approval of the plan it belongs to;
- the timeline only grows: a successful write adds to it, a refusal leaves it exactly as it was;
- the version goes up by exactly one per change of the ticket (an action, an edit that changes
  something); comments, steps and collaborators are added to the ticket without changing it,
  unless the submitter's reply resumes it from waiting, which is an action.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db.models import Count
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from opsdesk.accounts.models import User
from opsdesk.errors import DomainError
from opsdesk.tickets import services, workflow
from opsdesk.tickets.choices import Status
from opsdesk.tickets.effects import is_sent_back
from opsdesk.tickets.models import Ticket, TimelineEvent, WorkLogStep
from opsdesk.tickets.workflow import Party
from tests.factories import PLANS, fields_for, payment_module, ticket_in

PEOPLE = ("duty", "owner", "support", "developer", "ops", "head", "submitter", "other_submitter")
ACTIONS = tuple(t.name for t in workflow.TRANSITIONS)
EDITABLE = tuple(workflow.EDITABLE_FIELDS)
COMMANDS = ["systemctl restart nginx", "UPDATE users SET locked = false WHERE id = 42;"]
# Where examples start: every state, the ones where work happens more often.
STARTS = [*Status, Status.PLANNING, Status.IN_PROGRESS, Status.IN_PROGRESS]
SIDEWAYS = {"dismiss", "reassign", "escalate", "request_info", "revise_plan", "reject_plan"}

# No NUL: PostgreSQL cannot store it and the API refuses it before the services see it.
text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
               max_size=12)

GOOD_EDITS = {
    "title": st.sampled_from(["用户无法登录", "登录后白屏"]),
    "priority": st.sampled_from(["urgent", "high", "medium", "low"]),
    "impact": st.sampled_from(["all_users", "few_users"]),
    "urgency": st.sampled_from(["immediate", "low"]),
    "module": st.just("payment"),
    "problem_type": st.sampled_from(["code", "environment", "data", "requirement"]),
    "estimate_minutes": st.integers(0, 600),
    "deadline_at": st.sampled_from(["2026-12-01T18:00:00+08:00", None]),
    "analysis_notes": text,
}


def named_by(transition: workflow.Transition, user: User, ticket: Ticket) -> bool:
    for who in transition.by:
        if who is Party.ASSIGNEE and ticket.assignee_id == user.pk:
            return True
        if who is Party.SUBMITTER and ticket.submitter_id == user.pk:
            return True
        if not isinstance(who, Party) and who in user.roles:
            return True
    return False


def expected_target(transition: workflow.Transition, before: Ticket, after: Ticket) -> str:
    if transition.name == "propose_plan" and after.current_plan.needs_approval:
        return Status.AWAITING_APPROVAL
    if transition.name == "reopen" and before.assignee_id is None:
        return Status.NEW  # closed at triage: back to triage
    if transition.target == workflow.STAY:
        return before.status
    if transition.target == workflow.PREVIOUS:
        return before.status_before_waiting
    return transition.target


def machine_for(people: dict[str, User]) -> type[RuleBasedStateMachine]:
    usernames = [u.username for u in people.values()]
    any_value = st.one_of(
        st.none(), st.just(""), text, st.booleans(), st.integers(-5, 2**40),
        st.sampled_from([
            *usernames, "nobody", "payment", "urgent", "high", "low", "code", "data",
            "code_fix", "service_restart", "all_users", "immediate",
            "2026-12-01T18:00:00+08:00", "not a date", "  ",
        ]),
    )

    def right_fields(action: str) -> st.SearchStrategy[dict[str, Any]]:
        if action == "propose_plan":
            return st.sampled_from(list(PLANS.values()))
        if action == "reassign":
            return st.sampled_from(["owner", "support"]).map(
                lambda who: {"assignee": people[who].username})
        return st.just(fields_for(action, people))

    def some_fields(action: str) -> st.SearchStrategy[dict[str, Any]]:
        """Right, nearly right (one field dropped or garbled), or anything at all."""
        names = [fld.name for fld in workflow.BY_NAME[action].fields] + ["colour"]

        def spoil(fields: dict[str, Any], name: str, value: Any, drop: bool) -> dict[str, Any]:
            spoiled = {k: v for k, v in fields.items() if not (drop and k == name)}
            return spoiled if drop else {**spoiled, name: value}

        return st.one_of(
            right_fields(action),
            st.builds(spoil, right_fields(action), st.sampled_from(names), any_value,
                      st.booleans()),
            st.dictionaries(st.sampled_from(names), any_value, max_size=4),
        )

    class Workflow(RuleBasedStateMachine):
        @initialize(start=st.sampled_from(STARTS), plan=st.sampled_from(list(PLANS)),
                    collaborators=st.lists(st.sampled_from(["developer", "ops"]), unique=True))
        def a_ticket_somewhere_in_the_procedure(self, start, plan, collaborators):
            # Each example works on a ticket of its own: nothing leaks between examples.
            self.ticket = ticket_in(start, people=people, plan=plan,
                                    collaborators=tuple(collaborators))
            self.version = self.ticket.version
            self.known = self.snapshot()

        # What the machine reads ------------------------------------------------------------

        def fresh(self) -> Ticket:
            return Ticket.objects.select_related("current_plan").get(pk=self.ticket.pk)

        def events(self) -> list[tuple[Any, ...]]:
            return list(TimelineEvent.objects.filter(ticket=self.ticket).order_by("id")
                        .values_list("id", "kind", "actor_id", "at", "data", "internal"))

        def snapshot(self) -> tuple[Any, ...]:
            """The ticket's columns, what hangs off it, and its timeline (last)."""
            ticket = Ticket.objects.filter(pk=self.ticket.pk).annotate(
                step_count=Count("work_log", distinct=True),
                comment_count=Count("comments", distinct=True),
                plan_count=Count("plans", distinct=True),
            ).values().get()
            collaborators = set(self.ticket.collaborators.values_list("pk", flat=True))
            return ticket, collaborators, self.events()

        def refused(self) -> None:
            """After a refusal: everything exactly as it was after the last write."""
            assert self.snapshot() == self.known, "a refused write changed something"

        def wrote(self, by: User, kind: str, changed_ticket: bool) -> None:
            """After a successful write: one more version if it changed the ticket, and the
            timeline grown by events that include one of ``kind`` by ``by``."""
            if changed_ticket:
                self.version += 1
            history, self.known = self.known[-1], self.snapshot()
            events = self.known[-1]
            assert events[: len(history)] == history, "the timeline was rewritten"
            added = events[len(history):]
            assert added, "a write left no event"
            assert any(e[1] == kind and e[2] == by.pk for e in added), (kind, added)
            self.ticket = self.fresh()

        # Rules -------------------------------------------------------------------------------

        def transition(self, action: str, who: str, fields: dict[str, Any], stale: bool) -> bool:
            user, before = people[who], self.ticket
            version = self.version - 1 if stale else self.version
            try:
                services.do_transition(ticket_id=before.pk, action=action, by=user,
                                       version=version, fields=fields)
            except DomainError:
                self.refused()
                return False
            table = workflow.BY_NAME[action]
            kind = {"approve": "approval", "reject_plan": "rejection", "escalate": "escalation",
                    "propose_plan": "plan", "confirm": "verification",
                    "reject_fix": "verification"}.get(action, "transition")
            self.wrote(user, kind, changed_ticket=True)
            # Accepted, so the table allows it: this state, this person, that target.
            assert not stale, "a stale version was accepted"
            assert before.status in table.sources, (action, before.status)
            assert named_by(table, user, before), (action, who)
            assert self.ticket.status == expected_target(table, before, self.ticket), action
            return True

        @rule(action=st.sampled_from(ACTIONS), who=st.sampled_from(PEOPLE), data=st.data(),
              stale=st.sampled_from([False, False, False, True]))
        def anyone_tries_anything(self, action, who, data, stale):
            self.transition(action, who, data.draw(some_fields(action)), stale)

        @rule(data=st.data())
        def someone_follows_the_procedure(self, data):
            now = timezone.now()
            offered = [
                (t.name, who) for t in workflow.TRANSITIONS if self.ticket.status in t.sources
                and t.refusal(self.ticket, now) is None
                for who in PEOPLE if named_by(t, people[who], self.ticket)
            ]
            if not offered:  # archived: the end of the road
                assert self.ticket.status == Status.ARCHIVED
                return
            # Mostly forward: dismissals and reassignments would keep most walks short.
            forward = [(a, w) for a, w in offered if a not in SIDEWAYS] or offered
            action, who = data.draw(st.sampled_from(forward) | st.sampled_from(offered))
            fields = data.draw(right_fields(action))
            if action == "propose_plan" and self.ticket.reopen_count:
                # After a failed fix the next plan says when it will be done.
                fields = {**fields, "expected_completion_at": "2099-01-01T12:00:00+08:00"}
            # What the table offers, with the fields it asks for, goes through.
            assert self.transition(action, who, fields, stale=False), (action, who, fields)

        @rule(who=st.sampled_from(PEOPLE) | st.sampled_from(["owner", "duty", "submitter"]),
              stale=st.sampled_from([False, False, True]),
              fields=st.fixed_dictionaries({}, optional=GOOD_EDITS) | st.dictionaries(
                  st.sampled_from([*EDITABLE, "colour"]), any_value, min_size=1, max_size=3))
        def edit(self, who, stale, fields):
            version = self.version - 1 if stale else self.version
            sent_back = is_sent_back(self.ticket) and who == "submitter"
            try:
                services.update_ticket(ticket_id=self.ticket.pk, by=people[who], version=version,
                                       fields=fields)
            except DomainError:
                self.refused()
                return
            assert not stale, "a stale version was accepted"
            if self.fresh().version == self.version:  # nothing to change: nothing written
                self.refused()
                return
            if sent_back:
                # Her completed report resumes it: an action, one more version.
                self.version += 1
            self.wrote(people[who], "fields_changed", changed_ticket=True)

        def record_a_step(self, who: str, command: str, backdated: bool) -> bool:
            executed_at = timezone.now() - timedelta(hours=1) if backdated else None
            try:
                step = services.add_work_log_step(ticket_id=self.ticket.pk, by=people[who],
                                                  command=command, executed_at=executed_at,
                                                  duration_minutes=10)
            except DomainError:
                self.refused()
                return False
            self.wrote(people[who], "work_log", changed_ticket=False)
            plan = step.plan
            assert self.ticket.status == Status.IN_PROGRESS
            assert plan == self.ticket.current_plan
            assert not plan.needs_approval or plan.approved_at <= step.executed_at
            assert step.command == command  # verbatim
            return True

        @rule(who=st.sampled_from(PEOPLE), command=text, backdated=st.booleans())
        def anyone_records_a_step(self, who, command, backdated):
            self.record_a_step(who, command, backdated)

        @precondition(lambda self: self.ticket.status == Status.IN_PROGRESS)
        @rule(data=st.data(), command=st.sampled_from(COMMANDS), backdated=st.booleans())
        def the_people_on_the_ticket_record_a_step(self, data, command, backdated):
            pulled_in = set(self.ticket.collaborators.values_list("pk", flat=True))
            on_ticket = [who for who in PEOPLE
                         if people[who].pk in pulled_in | {self.ticket.assignee_id}]
            who = data.draw(st.sampled_from(on_ticket))
            accepted = self.record_a_step(who, command, backdated)
            # Refused only for a time before the approval of a plan that needed one.
            assert accepted or (backdated and self.ticket.current_plan.needs_approval)

        @precondition(lambda self: self.ticket.status == Status.WAITING)
        @rule(body=st.sampled_from(["Chrome 120，每次都能复现", "下午两点开始的"]))
        def the_submitter_replies(self, body):
            self.comment("submitter", body, internal=False)
            assert self.ticket.status != Status.WAITING

        @rule(who=st.sampled_from(PEOPLE), body=text, internal=st.booleans())
        def comment(self, who, body, internal):
            before = self.ticket
            try:
                services.add_comment(ticket_id=before.pk, by=people[who], body=body,
                                     internal=internal)
            except DomainError:
                self.refused()
                return
            resumed = before.status == Status.WAITING and who == "submitter" and not internal
            self.wrote(people[who], "comment", changed_ticket=resumed)
            assert self.ticket.status == (
                before.status_before_waiting if resumed else before.status)

        @rule(who=st.sampled_from(PEOPLE),
              add=st.lists(st.sampled_from(PEOPLE), max_size=2),
              remove=st.lists(st.sampled_from(PEOPLE), max_size=1))
        def pull_people_in(self, who, add, remove):
            try:
                services.set_collaborators(
                    ticket_id=self.ticket.pk, by=people[who],
                    add=[people[p].username for p in add],
                    remove=[people[p].username for p in remove])
            except DomainError:
                self.refused()
                return
            self.wrote(people[who], "fields_changed", changed_ticket=False)

        # Invariants (checked against the database after every step) ----------------------

        @invariant()
        def the_procedure_holds(self):
            ticket = self.fresh()
            # The status is a state of the table.
            assert ticket.status in Status.values
            # Nothing runs on a plan that needs approval and has none.
            if ticket.status == Status.IN_PROGRESS:
                plan = ticket.current_plan
                assert plan is not None
                assert not plan.needs_approval or plan.approved_at is not None
            for step in WorkLogStep.objects.filter(ticket=ticket).select_related("plan"):
                if step.plan.needs_approval:
                    assert step.plan.approved_at is not None
                    assert step.plan.approved_at <= step.executed_at
            # The timeline only grows (each write and refusal compares it event by event);
            # the version counts the changes.
            assert ticket.timeline.count() == len(self.known[-1])
            assert ticket.version == self.version

    return Workflow


@pytest.mark.django_db
def test_no_sequence_of_actions_breaks_the_procedure(people):
    payment_module(people["owner"])
    run_state_machine_as_test(
        machine_for(people),
        settings=settings(
            max_examples=50, stateful_step_count=30, deadline=None, derandomize=True,
            database=None, report_multiple_bugs=False,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
