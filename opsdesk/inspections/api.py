"""The inspections API: thin handlers over the selectors and services."""

from __future__ import annotations

from typing import Any, Literal

from django.http import HttpRequest
from ninja import Field, File, Query, Router, Schema, Status
from ninja.decorators import decorate_view
from ninja.files import UploadedFile

from opsdesk.accounts.models import User
from opsdesk.bounds import Id
from opsdesk.inspections import selectors, services
from opsdesk.inspections.models import InspectionPlan, InspectionRun
from opsdesk.inspections.schemas import (
    InspectionPlanOut,
    ResultsIn,
    RunDetailOut,
    RunOut,
)
from opsdesk.tickets import uploads
from opsdesk.tickets.schemas import AttachmentOut

router = Router(tags=["inspections"])


def _user(request: HttpRequest) -> User:
    user = request.auth  # type: ignore[attr-defined]
    assert isinstance(user, User)
    return user


class RunParams(Schema):
    state: Literal["due", "overdue", "done"] | None = None
    plan: Id | None = None
    mine: bool = Field(False, description="Only runs of plans I own.")
    limit: int = Field(100, description="1 to 500; more is taken as 500.")


@router.get("/inspections/plans", response=list[InspectionPlanOut], summary="Inspection plans")
def list_plans(request: HttpRequest, active: bool | None = None) -> Any:
    return selectors.list_plans(user=_user(request), active=active)


@router.get("/inspections/plans/{plan_id}", response=InspectionPlanOut,
            summary="An inspection plan")
def get_plan(request: HttpRequest, plan_id: Id) -> InspectionPlan:
    return selectors.get_plan(user=_user(request), plan_id=plan_id)


@router.get("/inspections/runs", response=list[RunOut], summary="Inspection runs by state")
def list_runs(request: HttpRequest, params: Query[RunParams]) -> Any:
    user = _user(request)
    return selectors.list_runs(
        user=user, state=params.state, plan_id=params.plan,
        owner=user if params.mine else None, limit=max(1, min(params.limit, 500)),
    )


@router.get("/inspections/runs/{run_id}", response=RunDetailOut, summary="A run and its results")
def get_run(request: HttpRequest, run_id: Id) -> InspectionRun:
    return selectors.get_run(user=_user(request), run_id=run_id)


@router.post(
    "/inspections/runs/{run_id}/results", response=RunDetailOut,
    summary="Record results (a failed item opens a ticket)",
)
def submit_results(request: HttpRequest, run_id: Id, payload: ResultsIn) -> InspectionRun:
    user = _user(request)
    selectors.get_run(user=user, run_id=run_id)
    services.record_results(
        run_id=run_id, by=user, finish=payload.finish,
        results=[services.ResultInput(**entry.dict()) for entry in payload.results],
    )
    return selectors.get_run(user=user, run_id=run_id)


@router.post(
    "/inspections/runs/{run_id}/items/{item_id}/evidence", response={201: AttachmentOut},
    summary="Attach an evidence file to a failed item's ticket",
)
@decorate_view(uploads.refused_at_once)
def add_evidence(
    request: HttpRequest, run_id: Id, item_id: Id, file: File[UploadedFile]
) -> Status[Any]:
    user = _user(request)
    selectors.get_run(user=user, run_id=run_id)
    attachment = services.attach_evidence(
        run_id=run_id, item_id=item_id, by=user, name=file.name or "", content=file,
        content_type=file.content_type or "",
    )
    return Status(201, attachment)
