"""Years of in-app notifications do not pile up: the worker deletes those read more than
OPSDESK_NOTICE_DAYS ago; unread ones wait for their reader, whatever their age."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from opsdesk.notify.models import Notice
from opsdesk.notify.services import forget_read_notices, mark_notices_read
from opsdesk.runtime.periodic import default_jobs

pytestmark = pytest.mark.django_db
START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def _told(recipient, n: int) -> list[int]:
    return [Notice.objects.create(recipient=recipient, kind="ticket_assigned", key=f"k{n}-{i}",
                                  subject=f"通知 {i}").pk for i in range(3)]


def test_read_notices_are_forgotten_after_the_retention_and_unread_ones_kept(
    make_user, settings
):
    settings.OPSDESK_NOTICE_DAYS = 180
    engineer = make_user("support_engineer")
    with time_machine.travel(START, tick=False):
        old_read, old_unread = _told(engineer, 1), _told(engineer, 2)
        mark_notices_read(user=engineer, notice_ids=old_read)
    with time_machine.travel(START + timedelta(days=100), tick=False):
        recent_read = _told(engineer, 3)
        mark_notices_read(user=engineer, notice_ids=recent_read)

    with time_machine.travel(START + timedelta(days=181), tick=False):
        assert forget_read_notices() == 3

    kept = set(Notice.objects.values_list("pk", flat=True))
    assert kept == set(old_unread) | set(recent_read)


def test_a_retention_of_zero_keeps_every_notice(make_user, settings):
    settings.OPSDESK_NOTICE_DAYS = 0
    engineer = make_user("support_engineer")
    with time_machine.travel(START, tick=False):
        mark_notices_read(user=engineer, notice_ids=_told(engineer, 1))

    with time_machine.travel(START + timedelta(days=3650), tick=False):
        assert forget_read_notices() == 0
    assert Notice.objects.count() == 3


def test_the_worker_runs_the_sweep_daily():
    [job] = [job for job in default_jobs() if job.name == "forget-read-notices"]
    assert job.every_seconds == 24 * 3600 and job.run is forget_read_notices
