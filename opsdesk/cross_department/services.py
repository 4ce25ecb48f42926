"""Filing a cross-department request: a requirement ticket (source "cross_department") whose
every plan must carry a delivery schedule and wait for the department head's approval, as
the workflow table says."""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from opsdesk.accounts.models import ProblemType, User
from opsdesk.bounds import MomentOutOfRange, check_date
from opsdesk.cross_department.models import CrossDepartmentRequest
from opsdesk.tickets import services as tickets
from opsdesk.tickets.choices import Channel, Impact, SourceKind, Urgency
from opsdesk.tickets.errors import InvalidField

TITLE_LENGTH = 200


def _required(name: str, value: str, label: str) -> str:
    if not value.strip():
        raise InvalidField(_("%(field)s is required.") % {"field": label}, field=name)
    return value.strip()


@transaction.atomic
def submit_request(
    *, by: User, department: str, needed: str, business_reason: str, desired_date: date,
    contact: str = "", title: str = "", channel: str = Channel.API,
) -> CrossDepartmentRequest:
    """File the request as a requirement ticket submitted by ``by``. The desired date may not
    be in the past (in the site's time zone) nor outside opsdesk's bounds (opsdesk.bounds)."""
    department = _required("department", department, _("The requesting department"))
    needed = _required("needed", needed, _("What is needed"))
    business_reason = _required("business_reason", business_reason, _("The business reason"))
    contact = contact.strip() or by.contact
    if not contact:
        raise InvalidField(_("A contact (phone or email) is required."), field="contact")
    try:
        check_date(desired_date)
    except MomentOutOfRange as refusal:
        raise InvalidField(str(refusal), field="desired_date") from refusal
    if desired_date < timezone.localdate():
        raise InvalidField(
            _("The desired date %(date)s is in the past.") % {"date": desired_date.isoformat()},
            field="desired_date",
        )
    title = title.strip() or needed.splitlines()[0]
    # Stored text is written in the department's language, whoever's browser sent it.
    with translation.override(settings.LANGUAGE_CODE):
        description = "\n".join([
            _("What is needed: %(needed)s") % {"needed": needed},
            _("Business reason: %(reason)s") % {"reason": business_reason},
            _("Desired date: %(date)s") % {"date": desired_date.isoformat()},
        ])
    ticket = tickets.create_ticket(
        by=by, submitter=by, title=title[:TITLE_LENGTH], description=description,
        impact=Impact.FEW_USERS, urgency=Urgency.NORMAL,
        source_kind=SourceKind.CROSS_DEPARTMENT, channel=channel,
        problem_type=ProblemType.REQUIREMENT,
        submitter_department=department[:100], submitter_contact=contact[:200],
    )
    return CrossDepartmentRequest.objects.create(
        ticket=ticket, department=department[:100], needed=needed,
        business_reason=business_reason, desired_date=desired_date, contact=contact[:200],
        requested_by=by,
    )
