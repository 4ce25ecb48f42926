"""The API document is true: each shape has one name, and every operation lists the errors it
may answer, in the one error shape (the fuzz test holds the answers to it)."""

from __future__ import annotations

import inspect

import pytest
from ninja import Schema

from opsdesk.api import api

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def document():
    return api.get_openapi_schema()


def _schema_classes(base: type = Schema) -> list[type]:
    found = []
    for sub in base.__subclasses__():
        if sub.__module__.startswith("opsdesk."):
            found.append(sub)
        found += _schema_classes(sub)
    return found


def test_no_two_api_shapes_share_a_name():
    names: dict[str, str] = {}
    for cls in _schema_classes():
        where = f"{cls.__module__}.{cls.__qualname__}"
        assert names.setdefault(cls.__name__, where) == where, (
            f"{cls.__name__} names both {names[cls.__name__]} and {where}: the document "
            "would show one of them for both")


def test_a_tickets_plan_and_the_modules_are_documented_as_what_they_are(document):
    shapes = document["components"]["schemas"]
    plan = shapes["TicketOut"]["properties"]["current_plan"]
    assert "#/components/schemas/PlanOut" in str(plan)
    assert {"kind", "summary", "number"} <= set(shapes["PlanOut"]["properties"])
    modules = document["paths"]["/api/v1/modules"]["get"]["responses"]
    assert modules[200]["content"]["application/json"]["schema"]["items"]["$ref"] == (
        "#/components/schemas/ModuleOut")
    assert {"owner", "support"} <= set(shapes["ModuleOut"]["properties"])


@pytest.mark.parametrize(("path", "method", "statuses"), [
    ("/api/v1/tickets", "post", {400, 401, 403, 409, 413, 422, 503}),
    ("/api/v1/tickets/{key}", "get", {401, 403, 404, 422, 503}),
    ("/api/v1/tickets/{key}/transitions", "post", {401, 404, 409, 422}),
    ("/api/v1/tickets/{key}/attachments", "post", {413, 507}),
    ("/api/v1/intake/alertmanager", "post", {401, 403, 413, 422, 503}),
    ("/api/v1/ping", "get", {503}),
])
def test_each_operation_lists_the_errors_it_may_answer(document, path, method, statuses):
    responses = document["paths"][path][method]["responses"]
    documented = {int(status) for status in responses}
    assert statuses <= documented
    for status in statuses:
        if responses.get(status, responses.get(str(status)))["content"]["application/json"][
                "schema"] != {"$ref": "#/components/schemas/Error"}:
            pytest.fail(f"{method} {path} {status} is not the error shape")


def test_no_endpoint_returns_a_status_as_a_tuple():
    """django-ninja deprecates ``return 201, body``: endpoints answer ``Status(201, body)``."""
    tuples = [
        f"{operation.view_func.__module__}.{operation.view_func.__name__}"
        for _prefix, router in api._routers
        for path_view in router.path_operations.values()
        for operation in path_view.operations
        if str(inspect.signature(operation.view_func).return_annotation).startswith("tuple")
    ]
    assert tuples == []
