"""Dashboards are for the department's staff: submitters and strangers are refused, and bad
filters get a clear answer."""

from __future__ import annotations

import pytest
from django.test import Client

REPORTS = ["open-tickets", "inflow", "times", "sla-compliance", "backlog-age"]


@pytest.mark.parametrize("name", REPORTS)
def test_submitter_is_refused(api, name):
    response = api["submitter"].get(f"/reports/{name}")
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"


@pytest.mark.parametrize("name", REPORTS)
def test_anonymous_is_refused(db, name):
    response = Client().get(f"/api/v1/reports/{name}")
    assert response.status_code == 401
    assert response.json()["code"] == "unauthenticated"


@pytest.mark.parametrize("role", ["duty", "owner", "support", "developer", "ops", "head"])
def test_every_staff_role_may_read(api, role):
    assert api[role].get("/reports/open-tickets").status_code == 200


def test_signed_in_browser_reads_the_figures(people):
    client = Client()
    client.force_login(people["owner"])
    response = client.get("/api/v1/reports/inflow", {"days": 90})
    assert response.status_code == 200
    assert len(response.json()["days"]) == 90


def test_a_period_not_offered_is_refused_clearly(api):
    response = api["head"].get("/reports/inflow", days=365)
    assert response.status_code == 422
    assert response.json()["details"]["field"] == "days"
    assert "7, 30, 90" in response.json()["message"]
    assert api["head"].get("/reports/times", days="week").status_code == 422


def test_an_unknown_module_is_refused_clearly(api, payment):
    response = api["head"].get("/reports/open-tickets", module="billing")
    assert response.status_code == 422
    assert response.json() == {"code": "invalid_field", "message": "No module billing.",
                               "details": {"field": "module"}}
