"""docs/workflow.md is the workflow table rendered; it must not drift from the table."""

from __future__ import annotations

from pathlib import Path

from django.utils import translation

from opsdesk.tickets.docs import workflow_as_data, workflow_as_markdown

DOCS = Path(__file__).resolve().parents[2] / "docs" / "workflow.md"


def test_the_docs_page_is_the_table_as_generated():
    with translation.override(None):
        assert DOCS.read_text(encoding="utf-8") == workflow_as_markdown(), "run `make docs`"


def test_the_table_forces_approval_on_every_cross_department_plan():
    with translation.override(None):
        data = workflow_as_data()
    (propose,) = [t for t in data["transitions"] if t["name"] == "propose_plan"]
    forced = {rule["field"]: rule["value"] for rule in propose["forces"]}
    assert forced == {"changes_code": True, "needs_other_department": True}
    assert {"field": "delivery_schedule",
            "when": "for requirement delivery and cross-department requests"} in propose["requires"]
