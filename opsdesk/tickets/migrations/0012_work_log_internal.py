from django.db import migrations, models

from opsdesk.runtime.online_columns import AddFieldInPlace


def hide_recorded_steps(apps, schema_editor):
    """Steps recorded so far become internal, as new ones are by default: their timeline events
    too, or a submitter would still read the commands there. Only who may read an event
    changes, never what it says."""
    TimelineEvent = apps.get_model("tickets", "TimelineEvent")
    TimelineEvent.objects.filter(kind="work_log").update(internal=True)


class Migration(migrations.Migration):

    dependencies = [
        ("tickets", "0011_dispatched"),
    ]

    operations = [
        AddFieldInPlace(
            model_name="worklogstep",
            name="internal",
            field=models.BooleanField(default=True, verbose_name="internal"),
        ),
        migrations.RunPython(hide_recorded_steps, migrations.RunPython.noop),
    ]
