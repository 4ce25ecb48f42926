# The open queues' partial indexes (tickets/models.py): only open tickets are in them. Built
# without a lock on PostgreSQL (runtime/online_indexes.py); on SQLite each takes the write lock
# while it reads the table (about a second at 1,000,000 tickets, bench/README.md *Queues*).

from django.conf import settings
from django.db import migrations, models

from opsdesk.runtime.online_indexes import AddIndexOnline

STILL_OPEN = models.Q(models.Q(('status', 'closed'), _negated=True),
                      models.Q(('status', 'archived'), _negated=True))


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ('accounts', '0005_readable_labels'),
        ('tickets', '0018_review_indexes'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        AddIndexOnline(
            model_name='ticket',
            index=models.Index(condition=STILL_OPEN, fields=['id'], name='ticket_open'),
        ),
        AddIndexOnline(
            model_name='ticket',
            index=models.Index(condition=STILL_OPEN, fields=['assignee', 'id'],
                               name='ticket_open_assignee'),
        ),
    ]
