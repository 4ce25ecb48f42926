"""The inspections API: thin handlers over the selectors and services."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import File, Query, Router, Schema
from ninja.files import UploadedFile

from opsdesk.accounts.models import User
from opsdesk.inspections import selectors, services
from opsdesk.inspections.models import InspectionPlan, InspectionRun
from opsdesk.inspections.schemas import PlanOut, ResultsIn, RunDetailOut, RunOut
from opsdesk.tickets.schemas import AttachmentOut

router = Router(tags=["inspections"])


def _user(request: HttpRequest) -> User:
    user = request.auth  # type: ignore[attr-defined]
    assert isinstance(user, User)
    return user


class RunParams(Schema):
    state: str | None = None  # due, overdue, done
    plan: int | None = None
    mine: bool = False  # only runs of plans I own
    limit: int = 100


@router.get("/inspections/plans", response=list[PlanOut], summary="Inspection plans")
def list_plans(request: HttpRequest, active: bool | None = None) -> Any:
    return selectors.list_plans(user=_user(request), active=active)


@router.get("/inspections/plans/{plan_id}", response=PlanOut, summary="An inspection plan")
def get_plan(request: HttpRequest, plan_id: int) -> InspectionPlan:
    return selectors.get_plan(user=_user(request), plan_id=plan_id)


@router.get("/inspections/runs", response=list[RunOut], summary="Inspection runs by state")
def list_runs(request: HttpRequest, params: Query[RunParams]) -> Any:
    user = _user(request)
    return selectors.list_runs(
        user=user, state=params.state, plan_id=params.plan,
        owner=user if params.mine else None, limit=max(1, min(params.limit, 500)),
    )


@router.get("/inspections/runs/{run_id}", response=RunDetailOut, summary="A run and its results")
def get_run(request: HttpRequest, run_id: int) -> InspectionRun:
    return selectors.get_run(user=_user(request), run_id=run_id)


@router.post(
    "/inspections/runs/{run_id}/results", response=RunDetailOut,
    summary="Record results (a failed item opens a ticket)",
)
def submit_results(request: HttpRequest, run_id: int, payload: ResultsIn) -> InspectionRun:
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
def add_evidence(
    request: HttpRequest, run_id: int, item_id: int, file: File[UploadedFile]
) -> tuple[int, Any]:
    user = _user(request)
    selectors.get_run(user=user, run_id=run_id)
    attachment = services.attach_evidence(
        run_id=run_id, item_id=item_id, by=user, name=file.name or "", content=file.read(),
        content_type=file.content_type or "",
    )
    return 201, attachment
