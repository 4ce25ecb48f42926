"""Each clock remembers when its timer rings, so that a recomputation sets a new timer only for
a next check that moved earlier (until now a timer was set for every next check: each clock's
is taken to be set at its next check); and how far ahead it counts, so that a calendar change
on a later date leaves it alone (unknown until the clock is next computed)."""

from django.db import migrations, models
from django.db.models import F


def timers_at_next_checks(apps, schema_editor):
    apps.get_model("sla", "Clock").objects.update(timer_at=F("next_check_at"))


class Migration(migrations.Migration):
    dependencies = [("sla", "0005_target_units")]

    operations = [
        migrations.AddField(
            model_name="clock", name="timer_at", field=models.DateTimeField(null=True),
        ),
        migrations.AddField(
            model_name="clock", name="horizon_at", field=models.DateTimeField(null=True),
        ),
        migrations.RunPython(timers_at_next_checks, migrations.RunPython.noop),
    ]
