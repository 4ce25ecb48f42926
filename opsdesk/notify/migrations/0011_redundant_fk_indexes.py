# A foreign key's own index goes where another index leads with its column and serves every
# read it served; every insert wrote both. Dropped by name, concurrently on PostgreSQL
# (runtime/online_indexes.py).

import django.db.models.deletion
from django.db import migrations, models

from opsdesk.runtime.online_indexes import ColumnIndexDroppedOnline


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ('notify', '0010_plan_explained_notification'),
        ('tickets', '0019_open_queue_indexes'),
    ]

    operations = [
        ColumnIndexDroppedOnline(
            model_name='delivery',
            name='ticket',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='tickets.ticket', verbose_name='ticket'),
        ),
    ]
