"""API shapes for inspections. Only shapes: the rules live in the services."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Field, Schema

from opsdesk.inspections.models import InspectionPlan, InspectionResult, InspectionRun
from opsdesk.tickets.schemas import Input, ModuleRef, UserRef


class ItemOut(Schema):
    id: int
    order: int
    title: str
    guidance: str


class InspectionPlanOut(Schema):
    id: int
    name: str
    description: str
    module: ModuleRef | None
    owner: UserRef
    schedule: str
    time_zone: str
    grace_minutes: int
    default_impact: str
    default_urgency: str
    active: bool
    next_due_at: datetime | None
    items: list[ItemOut]

    @staticmethod
    def resolve_owner(obj: InspectionPlan) -> dict[str, Any] | None:
        return UserRef.of(obj.owner)

    @staticmethod
    def resolve_items(obj: InspectionPlan) -> list[Any]:
        return list(obj.items.all())


class PlanRef(Schema):
    id: int
    name: str


class RunOut(Schema):
    id: int
    plan: PlanRef
    due_at: datetime
    overdue_at: datetime
    state: str = Field(description="due, overdue or done")
    started_by: UserRef | None
    started_at: datetime | None
    finished_by: UserRef | None
    finished_at: datetime | None

    @staticmethod
    def resolve_state(obj: InspectionRun) -> str:
        return obj.state_at()

    @staticmethod
    def resolve_started_by(obj: InspectionRun) -> dict[str, Any] | None:
        return UserRef.of(obj.started_by)

    @staticmethod
    def resolve_finished_by(obj: InspectionRun) -> dict[str, Any] | None:
        return UserRef.of(obj.finished_by)


class TicketLink(Schema):
    key: str
    status: str
    priority: str


class ResultOut(Schema):
    outcome: str
    notes: str
    evidence: str
    impact: str
    urgency: str
    ticket: TicketLink | None
    recorded_by: UserRef
    recorded_at: datetime

    @staticmethod
    def resolve_ticket(obj: InspectionResult) -> dict[str, Any] | None:
        ticket = obj.ticket
        if ticket is None:
            return None
        return {"key": ticket.key, "status": ticket.status, "priority": ticket.priority_code}

    @staticmethod
    def resolve_recorded_by(obj: InspectionResult) -> dict[str, Any] | None:
        return UserRef.of(obj.recorded_by)


class ChecklistEntry(Schema):
    item: ItemOut
    result: ResultOut | None


class RunDetailOut(RunOut):
    checklist: list[ChecklistEntry]

    @staticmethod
    def resolve_checklist(obj: InspectionRun) -> list[dict[str, Any]]:
        results = {result.item_id: result for result in obj.results.all()}
        return [{"item": item, "result": results.get(item.pk)} for item in obj.plan.items.all()]


class ResultIn(Input):
    item: int = Field(description="The checklist item's id.")
    outcome: str = Field(description="pass, fail or na")
    notes: str = Field("", description="What was found; required for a failed item.")
    evidence: str = Field("", description="Evidence as text: log lines, readings.")
    impact: str | None = Field(None, description="For a failed item: the ticket's impact.")
    urgency: str | None = Field(None, description="For a failed item: the ticket's urgency.")


class ResultsIn(Input):
    results: list[ResultIn]
    finish: bool = Field(False, description="Finish the run: every item must have a result.")
