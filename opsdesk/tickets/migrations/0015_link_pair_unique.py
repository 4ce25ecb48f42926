import django.db.models.functions.comparison
from django.db import migrations, models


def drop_reverse_twins(apps, schema_editor):
    """Of two links of a kind made both ways (possible before the pair was held unique), the
    first stays; both tickets' timelines keep the events of each."""
    TicketLink = apps.get_model("tickets", "TicketLink")
    earlier_reverse = TicketLink.objects.filter(
        source_id=models.OuterRef("target_id"), target_id=models.OuterRef("source_id"),
        kind=models.OuterRef("kind"), pk__lt=models.OuterRef("pk"))
    TicketLink.objects.filter(models.Exists(earlier_reverse)).delete()


class Migration(migrations.Migration):

    dependencies = [
        ('tickets', '0014_next_follow_up'),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='ticketlink',
            name='unique_link',
        ),
        migrations.RunPython(drop_reverse_twins, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name='ticketlink',
            constraint=models.UniqueConstraint(django.db.models.functions.comparison.Least('source', 'target'), django.db.models.functions.comparison.Greatest('source', 'target'), models.F('kind'), name='unique_link_pair'),
        ),
    ]
