# The open tickets of a priority (tickets/models.py), built without a lock on PostgreSQL
# (runtime/online_indexes.py); on SQLite it takes the write lock while it reads the table.

from django.conf import settings
from django.db import migrations, models

from opsdesk.runtime.online_indexes import AddIndexOnline

STILL_OPEN = models.Q(models.Q(('status', 'closed'), _negated=True),
                      models.Q(('status', 'archived'), _negated=True))


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ('accounts', '0005_readable_labels'),
        ('tickets', '0020_redundant_fk_indexes'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        AddIndexOnline(
            model_name='ticket',
            index=models.Index(condition=STILL_OPEN, fields=['priority', 'id'],
                               name='ticket_open_prio'),
        ),
    ]
