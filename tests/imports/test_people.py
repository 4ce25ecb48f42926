"""People are found by the names other trackers give them; a name two accounts share finds
nobody until the mapping says whom it means, and no account is ever created."""

from __future__ import annotations

import pytest

from opsdesk.accounts.models import User
from opsdesk.accounts.roles import Role
from opsdesk.tickets.models import Ticket
from tests.imports.exports import zentao_bug, zentao_csv

pytestmark = pytest.mark.django_db


def test_a_name_two_accounts_share_is_kept_as_written_until_the_mapping_says_whom(
        run_import, make_user, tmp_path):
    make_user(Role.SUBMITTER, username="wangfang1", display_name="王芳", department="财务部")
    second = make_user(Role.SUBMITTER, username="wangfang2", display_name="王芳")
    export = zentao_csv([zentao_bug(1, 由谁创建="王芳")])
    accounts = User.objects.count()

    first = run_import(export, "--from", "zentao", "--dry-run")

    assert ("  kept as names (several accounts have them; a mapping's [people] can say whom "
            "they mean): 王芳 (1)") in first.report
    mapping = tmp_path / "people.toml"
    mapping.write_text('[people]\n"王芳" = "wangfang2"\n', encoding="utf-8")
    run = run_import(export, "--from", "zentao", "--mapping", str(mapping))
    assert run.code == 0, run.err
    assert Ticket.objects.get().submitter == second
    assert User.objects.count() == accounts


def test_a_name_written_family_name_first_finds_its_account(run_import, make_user):
    person = make_user(Role.SUBMITTER, username="lmm", first_name="梅梅", last_name="李",
                       display_name="")

    run = run_import(zentao_csv([zentao_bug(1, 由谁创建="李梅梅")]), "--from", "zentao")

    assert run.code == 0, run.err
    ticket = Ticket.objects.get()
    assert (ticket.submitter, ticket.submitter_name) == (person, str(person))
