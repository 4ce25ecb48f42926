# Recurring problems and recurring alerts (reports/recurring.py) at a million tickets: about
# 2 s per index to build on SQLite (the write lock held meanwhile), without a lock on
# PostgreSQL (runtime/online_indexes.py).

from django.db import migrations, models

from opsdesk.runtime.online_indexes import AddIndexOnline


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ('tickets', '0017_review_timeline_kind'),
    ]

    operations = [
        AddIndexOnline(
            model_name='ticket',
            index=models.Index(fields=['module', 'problem_type', 'submitted_at'],
                               name='ticket_recurring'),
        ),
        AddIndexOnline(
            model_name='ticket',
            index=models.Index(condition=models.Q(('alert_rule__gt', '')),
                               fields=['alert_rule', 'alert_host', 'submitted_at'],
                               name='ticket_alert_recurring'),
        ),
    ]
