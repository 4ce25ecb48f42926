# A foreign key's own index goes where another index leads with its column and serves every
# read it served; every insert wrote both. Dropped by name, concurrently on PostgreSQL
# (runtime/online_indexes.py).

import django.db.models.deletion
from django.db import migrations, models

from opsdesk.runtime.online_indexes import ColumnIndexDroppedOnline


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ('sla', '0010_warn_breach_index'),
        ('tickets', '0019_open_queue_indexes'),
    ]

    operations = [
        ColumnIndexDroppedOnline(
            model_name='notice',
            name='ticket',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='tickets.ticket'),
        ),
    ]
