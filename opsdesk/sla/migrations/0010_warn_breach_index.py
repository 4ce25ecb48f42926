# The at-risk badge counts the warned clocks not yet breached, with their tickets, from this index
# alone; the warning alone sent each to the table. Built without locking the table on PostgreSQL
# (runtime/online_indexes.py), before the old index goes.

from django.db import migrations, models

from opsdesk.runtime.online_indexes import AddIndexOnline, RemoveIndexOnline


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ('sla', '0009_review_indexes'),
    ]

    operations = [
        AddIndexOnline(
            model_name='clock',
            index=models.Index(fields=['warn_at', 'breach_at', 'ticket'],
                               name='sla_warn_breach'),
        ),
        RemoveIndexOnline(model_name='clock', name='sla_warn'),
    ]
