"""Messages that name a field name it as people call it, in their language, never by its code
("你不能修改：priority。"); the codes stay in the error's details for programs. Labels shown as
labels are capitalised in English."""

from __future__ import annotations

import re

import pytest
from django.utils import translation

from opsdesk import field_labels
from opsdesk.tickets import services
from opsdesk.tickets.errors import InvalidField
from tests.conftest import Api
from tests.factories import report

CODE = re.compile(r"\b(priority|title|impact|urgency|assignee|problem_type)\b")
pytestmark = pytest.mark.django_db


def test_a_refused_edit_names_the_fields_by_their_labels(people, payment):
    submitter = Api(people["submitter"], language="zh-hans")
    key = submitter.post("/tickets", report(module="payment")).json()["key"]
    version = submitter.read(key)["version"]
    refused = submitter.patch(f"/tickets/{key}", {"version": version,
                                                  "fields": {"priority": "urgent"}})
    assert refused.status_code == 403
    assert "优先级" in refused.json()["message"] and not CODE.search(refused.json()["message"])
    assert refused.json()["details"]["fields"] == ["priority"]

    english = Api(people["submitter"]).patch(f"/tickets/{key}", {
        "version": version, "fields": {"priority": "urgent"}})
    assert "priority" in english.json()["message"]


def test_invalid_input_names_the_fields_by_their_labels(people):
    body = report()
    del body["title"]
    refused = Api(people["submitter"], language="zh-hans").post("/tickets", body)
    assert refused.status_code == 422
    assert "标题" in refused.json()["message"] and not CODE.search(refused.json()["message"])
    [problem] = refused.json()["details"]["errors"]
    assert problem["field"].endswith("title") and problem["label"] == "标题"


def test_a_bad_kind_is_named_by_label_with_the_codes_in_the_details(people, payment):
    api = Api(people["duty"], language="zh-hans")
    key = api.post("/tickets", report(module="payment")).json()["key"]
    other = api.post("/tickets", report(module="payment")).json()["key"]
    with translation.override("zh-hans"), pytest.raises(InvalidField) as refused:
        services.link_tickets(ticket_id=int(key.rsplit("-", 1)[1]), by=people["duty"],
                              kind="sibling_of", other=other)
    assert "related_to" not in refused.value.message
    assert "related_to" in refused.value.details["choices"]


def test_action_forms_label_their_inputs_capitalised(people, payment, browser_as):
    people["duty"].language = "en"
    people["duty"].save(update_fields=["language"])
    key = Api(people["submitter"]).post("/tickets", report()).json()["key"]
    page = browser_as(people["duty"], "en").get(f"/tickets/{key}/").content.decode()
    labels = re.findall(r"<label[^>]*>\s*([A-Za-z][^<]*?)\s*<", page)
    assert labels and all(label[0].isupper() for label in labels), labels


def test_a_name_models_share_is_labelled_by_a_word_that_fits_each():
    with translation.override("en"):
        assert field_labels.label("payload.kind") == "kind"  # not a plan's "plan kind"
        assert field_labels.label("fields.problem_type") == "problem type"
        assert field_labels.label("unheard_of") == "unheard_of"
