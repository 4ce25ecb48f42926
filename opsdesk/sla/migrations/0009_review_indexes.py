# The dashboards' and the review's time reports read the clocks stopped in a period from these
# indexes alone. Built without locking the table on PostgreSQL (runtime/online_indexes.py); the
# new indexes exist before the old ones go, so the reports are never left without one.

from django.db import migrations, models

from opsdesk.runtime.online_indexes import AddIndexOnline, RemoveIndexOnline


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ('sla', '0008_readable_labels'),
        ('tickets', '0017_review_timeline_kind'),
    ]

    operations = [
        AddIndexOnline(
            model_name='clock',
            index=models.Index(fields=['responded_at', 'started_at', 'ticket'],
                               name='sla_response_times'),
        ),
        AddIndexOnline(
            model_name='clock',
            index=models.Index(fields=['resolved_at', 'started_at', 'ticket'],
                               name='sla_resolution_times'),
        ),
        RemoveIndexOnline(model_name='clock', name='sla_responded'),
        RemoveIndexOnline(model_name='clock', name='sla_resolved'),
    ]
