from django.core.management import call_command

from opsdesk.accounts.models import User
from opsdesk.cross_department.models import CrossDepartmentRequest
from opsdesk.emergencies.models import Emergency
from opsdesk.inspections.models import InspectionResult, InspectionRun
from opsdesk.tickets.choices import Status
from opsdesk.tickets.models import Ticket, TimelineEvent


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
