# A foreign key's own index goes where an index on (the column, id) exists: the same index twice
# (SQLite orders a one-column index by the row id too), which every insert wrote. Not where the
# other index has columns between (assignee, module: their own index is what lists them newest
# first). Dropped by name, concurrently on PostgreSQL (runtime/online_indexes.py).

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from opsdesk.runtime.online_indexes import ColumnIndexDroppedOnline


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ('accounts', '0005_readable_labels'),
        ('tickets', '0019_open_queue_indexes'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        ColumnIndexDroppedOnline(
            model_name='ticket',
            name='submitter',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='submitted_tickets', to=settings.AUTH_USER_MODEL, verbose_name='submitter'),
        ),
        ColumnIndexDroppedOnline(
            model_name='timelineevent',
            name='ticket',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='timeline', to='tickets.ticket', verbose_name='ticket'),
        ),
    ]
