from django.db import migrations, models


def schedule_waiting_fixes(apps, schema_editor):
    """A fix already waiting for verification is due a follow-up at once: the worker's next
    run decides (a reminder, the closure, or nothing yet) and keeps the moment after."""
    Ticket = apps.get_model("tickets", "Ticket")
    Ticket.objects.filter(status="awaiting_verification",
                          verification_requested_at__isnull=False).update(
        next_follow_up_at=models.F("verification_requested_at"))


class Migration(migrations.Migration):

    dependencies = [
        ('tickets', '0013_conversation'),
    ]

    operations = [
        migrations.AddField(
            model_name='ticket',
            name='next_follow_up_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddIndex(
            model_name='ticket',
            index=models.Index(fields=['status', 'next_follow_up_at'], name='ticket_follow_up'),
        ),
        migrations.RunPython(schedule_waiting_fixes, migrations.RunPython.noop),
    ]
