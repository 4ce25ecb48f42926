from django.core.management import call_command

from opsdesk.accounts.models import User
from opsdesk.cross_department.models import CrossDepartmentRequest
from opsdesk.emergencies.models import Emergency
from opsdesk.inspections.models import InspectionResult, InspectionRun
from opsdesk.tickets.choices import Status
from opsdesk.tickets.models import Ticket, TicketLink, TimelineEvent
from opsdesk.tickets.selectors import time_taken


def test_demo_loads_people_modules_and_tickets_in_many_states(db, tmp_path, settings, capsys):
    call_command("demo")
    out = capsys.readouterr().out
    assert "zhangwei" in out and "password" in out
    roles = {role for user in User.objects.all() for role in user.roles}
    assert roles >= {"duty", "owner", "support", "developer", "ops", "head", "submitter", "admin"}
    states = set(Ticket.objects.values_list("status", flat=True))
    assert len(Ticket.objects.all()) >= 12
    assert states >= {Status.NEW, Status.ASSIGNED, Status.ANALYSING, Status.PLANNING,
                      Status.AWAITING_APPROVAL, Status.IN_PROGRESS, Status.WAITING,
                      Status.AWAITING_VERIFICATION, Status.CLOSED, Status.ARCHIVED}
    for ticket in Ticket.objects.all():
        assert TimelineEvent.objects.filter(ticket=ticket).exists()
    sources = set(Ticket.objects.values_list("source_kind", flat=True))
    assert sources >= {"user_report", "alert", "inspection", "cross_department", "emergency"}
    assert InspectionRun.objects.filter(status="done").count() == 1
    assert InspectionResult.objects.filter(ticket__isnull=False).count() == 1
    assert Emergency.objects.count() == 1 and CrossDepartmentRequest.objects.count() == 1


def test_demo_loads_only_once(db, capsys):
    call_command("demo")
    count = Ticket.objects.count()
    call_command("demo")
    assert Ticket.objects.count() == count
    assert "already loaded" in capsys.readouterr().out


def test_the_demo_shows_links_a_reopened_ticket_and_time_per_person(db, capsys):
    call_command("demo")

    kinds = set(TicketLink.objects.values_list("kind", flat=True))
    assert kinds >= {"duplicate_of", "related_to"}
    reopened = Ticket.objects.get(title="密码重置邮件收不到")
    assert reopened.status == Status.ANALYSING and reopened.reopen_count == 1
    rounds = Ticket.objects.get(title="订单导出后金额合计不对")
    spent = time_taken(user=rounds.assignee, ticket=rounds)
    assert len(spent.by_person) == 2 and spent.logged_minutes == 95
    assert [r["round"] for r in spent.reported] == [1, 2]
    sent_back = Ticket.objects.get(title="系统打不开了")
    assert sent_back.status == Status.WAITING
