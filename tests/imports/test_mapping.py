"""A mapping file changes the defaults: columns, statuses, priorities, people, modules, date
formats and zone, comment visibility. A file that cannot be used stops the import before
anything is read, saying where."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from opsdesk.accounts.models import Module, User
from opsdesk.imports.models import ImportedTicket
from opsdesk.tickets.choices import Priority, Status
from opsdesk.tickets.models import Ticket
from tests.imports.exports import jira_csv, jira_issue, zentao_bug, zentao_csv

pytestmark = pytest.mark.django_db

MAPPING = """
[columns]
cause = "Custom field (Root Cause)"

[status]
"Triage" = "open"
"Won't Do" = "archived"

[priority]
"P0" = "urgent"

[people]
"Old Contractor" = "{developer}"
"zw" = "{duty_email}"

[modules]
"Payments" = "payment"

[dates]
formats = ["%d.%m.%Y %H:%M"]
time_zone = "Europe/London"

[comments]
public = true
"""


@pytest.fixture
def mapping(tmp_path, people: dict[str, User]):
    def write(text: str = MAPPING) -> str:
        path = tmp_path / "mapping.toml"
        path.write_text(text.replace("{developer}", people["developer"].username)
                        .replace("{duty_email}", people["duty"].email.upper()),
                        encoding="utf-8")
        return str(path)
    return write


def test_a_mapping_file_changes_statuses_priorities_people_modules_dates_and_columns(
        run_import, mapping, people, payment: Module, settings):
    settings.OPSDESK_DISPATCH = "worker"  # the open ticket stays as imported, for the worker
    issues = [
        jira_issue("SUP-1", Status="Triage", Priority="P0", Reporter="Old Contractor",
                   Resolved="", Resolution="", Created="03.03.2025 09:15",
                   components=["Payments"], **{"Status Category": ""},
                   comments=[("03.03.2025 10:00", "zw", "已知问题")]),
        jira_issue("SUP-2", Status="Won't Do", Created="03.03.2025 09:15",
                   Resolved="04.03.2025 18:00", **{"Root Cause": "证书过期"}),
    ]

    run = run_import(jira_csv(issues, custom=["Root Cause"]), "--from", "jira",
                     "--mapping", mapping())

    assert run.code == 0, run.err
    london = ZoneInfo("Europe/London")
    first = ImportedTicket.objects.get(external_key="SUP-1").ticket
    assert (first.status, first.priority, first.module) == (Status.NEW, Priority.URGENT, payment)
    assert not first.dispatched  # the worker routes it and starts its clocks
    assert first.submitter == people["developer"]
    assert first.submitted_at == datetime(2025, 3, 3, 9, 15, tzinfo=london)
    comment = first.comments.get()
    assert (comment.author, comment.internal) == (people["duty"], False)
    second = ImportedTicket.objects.get(external_key="SUP-2").ticket
    assert second.status == Status.ARCHIVED
    assert second.closed_at == second.archived_at == datetime(2025, 3, 4, 18, tzinfo=london)
    assert second.cause == "证书过期"
    assert second.dispatched  # nothing to route, no clock to start


def test_zentao_priority_can_come_from_its_priority_column_instead_of_severity(
        run_import, mapping):
    path = mapping('[columns]\npriority = "优先级"\n[priority]\n"3" = "low"\n')

    run = run_import(zentao_csv([zentao_bug(7, 严重程度="1", 优先级="3")]), "--from", "zentao",
                     "--mapping", path)

    assert run.code == 0, run.err
    assert Ticket.objects.get().priority == Priority.LOW


@pytest.mark.parametrize(("text", "message"), [
    ('[status]\n"Done" = "finished"\n',
     "[status] done: each must be one of open, closed, archived."),
    ('[priority]\n"P0" = "critical"\n',
     "[priority] p0: each must be one of urgent, high, medium, low."),
    ('[people]\n"Zhang Wei" = "nobody-here"\n',
     "[people] no user has the username or email: zhang wei = nobody-here."),
    ('[modules]\n"Payments" = "no-such-module"\n',
     "[modules] no module has the code or name: payments = no-such-module."),
    ('[columns]\nassignees = "Assignee"\n',
     "[columns] assignees: unknown; the columns are: key, title,"),
    ('[dates]\ntime_zone = "Mars/Olympus"\n',
     "[dates] time_zone: Mars/Olympus is not a time zone, such as Asia/Shanghai."),
    ('[dates]\nformats = "%d.%m.%Y"\n',
     '[dates] formats: a list of strptime formats, such as "%d.%m.%Y %H:%M".'),
    ("[comments]\npublic = \"yes\"\n", "comments.public must be true or false."),
    ("[statuses]\n", "Unknown sections: statuses. A mapping has: columns, status, priority,"),
    ("[status\n", "The mapping file is not valid TOML: "),
])
def test_a_mapping_file_that_cannot_be_used_stops_the_import_saying_why(
        run_import, mapping, text, message):
    run = run_import(jira_csv([jira_issue("SUP-1")]), "--from", "jira",
                     "--mapping", mapping(text))

    assert run.code == 1
    assert run.err.startswith(message)
    assert not Ticket.objects.exists()


def test_a_missing_mapping_file_is_named(run_import, tmp_path):
    run = run_import(jira_csv([jira_issue("SUP-1")]), "--from", "jira",
                     "--mapping", str(tmp_path / "nowhere.toml"))

    assert (run.code, run.err) == (1, "The mapping file cannot be read: No such file or "
                                      "directory")
