"""The response clock pauses as the resolution clock does (a report sent back to its
submitter), and restarts when a reopened ticket goes back to triage: it keeps the time it
has run and since when it runs again. Every clock so far ran from its start without a pause."""

import datetime

from django.db import migrations, models
from django.db.models import F

from opsdesk.runtime.online_columns import AddFieldInPlace


def running_since_start(apps, schema_editor):
    apps.get_model("sla", "Clock").objects.update(response_since=F("started_at"))


class Migration(migrations.Migration):
    dependencies = [("sla", "0006_clock_timer_and_horizon")]

    operations = [
        AddFieldInPlace(
            model_name="clock", name="response_since", field=models.DateTimeField(null=True),
        ),
        AddFieldInPlace(
            model_name="clock", name="response_spent",
            field=models.DurationField(default=datetime.timedelta(0)),
        ),
        migrations.RunPython(running_since_start, migrations.RunPython.noop),
    ]
