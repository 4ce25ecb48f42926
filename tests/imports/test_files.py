"""A file that cannot be read as the export it should be is refused whole, saying why, and
nothing is written: a wrong encoding, another tracker's export, an empty or missing file."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from opsdesk.tickets.models import Ticket
from tests.imports.exports import jira_csv, jira_issue, zentao_bug, zentao_csv

pytestmark = pytest.mark.django_db


def test_a_gbk_file_named_utf8_is_refused_with_its_first_unreadable_byte(run_import):
    run = run_import(zentao_csv([zentao_bug(1)]), "--from", "zentao", "--encoding", "utf-8")

    assert run.code == 1
    assert run.err == ("The file is not UTF-8 text (byte 0 cannot be read): name its encoding "
                       "with --encoding.")
    assert not Ticket.objects.exists()


def test_a_file_neither_utf8_nor_gbk_is_refused(run_import):
    run = run_import("编号,Bug标题\n1,对账\n".encode("utf-16"), "--from", "zentao")

    assert (run.code, run.err) == (1, "The file is neither UTF-8 nor GBK text (byte 0 cannot "
                                      "be read): name its encoding with --encoding.")


def test_an_export_of_the_other_tracker_names_the_columns_it_lacks(run_import):
    run = run_import(zentao_csv([zentao_bug(1)]), "--from", "jira")

    assert run.code == 1
    assert run.err.startswith(
        "This is not a Jira export as opsdesk knows it: it lacks the columns Issue key / Key, "
        "Summary, Status, Created (it has: 编号, 所属产品, 所属模块,")
    assert run.err.endswith("A mapping file's [columns] can name others.")
    assert not Ticket.objects.exists()


@pytest.mark.parametrize(("content", "message"), [
    (b"", "The file is empty."),
    (b",,,\r\nSUP-1,x,y,z\r\n", "The file's first line names no columns."),
])
def test_an_empty_file_is_refused(run_import, content, message):
    assert run_import(content, "--from", "jira").err == message


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(CommandError) as refused:
        call_command("import", str(tmp_path / "missing.csv"), "--from", "jira")

    assert str(refused.value).endswith("missing.csv cannot be read: No such file or directory")


def test_rows_of_a_file_whose_header_only_is_there_create_nothing(run_import):
    header = jira_csv([jira_issue("SUP-1")]).split(b"\r\n")[0] + b"\r\n"

    run = run_import(header, "--from", "jira")

    assert run.code == 0
    assert run.report[:2] == ["Jira export export.csv (UTF-8): 0 rows.",
                              "Created 0 tickets with 0 comments."]


def test_nul_characters_a_tool_left_in_the_file_are_dropped(run_import):
    export = jira_csv([jira_issue("SUP-1", Description="日志\x00截断")])

    run = run_import(export, "--from", "jira")

    assert run.code == 0, run.err
    assert Ticket.objects.get().description == "日志截断"
