import django.db.models.deletion
from django.db import migrations, models

BATCH = 1000


def create_index(apps, schema_editor):
    """The index for the database in use, holding every ticket there already is."""
    from opsdesk.knowledge import index, services

    with schema_editor.connection.cursor() as cursor:
        if schema_editor.connection.vendor == "postgresql":
            for statement in index.POSTGRES_TABLE:
                cursor.execute(statement)
        else:
            cursor.execute(index.SQLITE_TABLE)
    Ticket = apps.get_model("tickets", "Ticket")
    managers = {"tickets": Ticket.objects, "comments": apps.get_model("tickets", "Comment").objects,
                "steps": apps.get_model("tickets", "WorkLogStep").objects}
    ids = list(Ticket.objects.order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(ids), BATCH):
        index.write(services.documents(ids[start:start + BATCH], **managers), new=True)


def drop_index(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("DROP TABLE knowledge_ticketindex")


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('tickets', '0012_work_log_internal'),
        ('accounts', '0004_sign_in_link_sent_at'),
        ('runtime', '0002_worker_heartbeat'),
    ]

    operations = [
        migrations.CreateModel(
            name='TicketIndex',
            fields=[
                ('ticket', models.OneToOneField(db_column='rowid', db_constraint=False, on_delete=django.db.models.deletion.DO_NOTHING, primary_key=True, related_name='search_index', serialize=False, to='tickets.ticket')),
            ],
            options={
                'db_table': 'knowledge_ticketindex',
                'managed': False,
            },
        ),
        migrations.CreateModel(
            name='SearchTerm',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('word', models.CharField(max_length=50, unique=True, verbose_name='word')),
                ('note', models.CharField(blank=True, max_length=200, verbose_name='note')),
                ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='added at')),
            ],
            options={
                'verbose_name': 'search term',
                'verbose_name_plural': 'search terms',
                'ordering': ['word'],
            },
        ),
        migrations.RunPython(create_index, drop_index),
    ]
