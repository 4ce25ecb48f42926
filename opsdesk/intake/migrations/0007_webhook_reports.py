"""A generic webhook's reports get their own table: they were kept as alerts (the idempotency
key as the identity, the source's id in the labels), which they are not. Every one is moved,
with its ticket, counts and times, and moved back by the reverse migration."""

import django.db.models.deletion
from django.db import migrations, models

WEBHOOK = "webhook"


def move_reports_out_of_alerts(apps, schema_editor):
    Alert = apps.get_model("intake", "Alert")
    WebhookReport = apps.get_model("intake", "WebhookReport")
    kept_as_alerts = Alert.objects.filter(integration__kind=WEBHOOK).order_by("pk")
    WebhookReport.objects.bulk_create([
        WebhookReport(integration_id=alert.integration_id, idempotency_key=alert.identity,
                      external_id=str(alert.labels.get("external_id", ""))[:255],
                      ticket_id=alert.ticket_id, deliveries=alert.occurrences,
                      first_seen=alert.first_seen, last_seen=alert.last_seen)
        for alert in kept_as_alerts.iterator()
    ], batch_size=500)
    kept_as_alerts.delete()


def move_reports_back_to_alerts(apps, schema_editor):
    Alert = apps.get_model("intake", "Alert")
    WebhookReport = apps.get_model("intake", "WebhookReport")
    Alert.objects.bulk_create([
        Alert(integration_id=report.integration_id, identity=report.idempotency_key,
              ticket_id=report.ticket_id, occurrences=report.deliveries,
              first_seen=report.first_seen, last_seen=report.last_seen,
              labels={"external_id": report.external_id} if report.external_id else {})
        for report in WebhookReport.objects.order_by("pk").iterator()
    ], batch_size=500)


class Migration(migrations.Migration):

    dependencies = [
        ('intake', '0006_readable_labels'),
        ('tickets', '0019_open_queue_indexes'),
    ]

    operations = [
        migrations.CreateModel(
            name='WebhookReport',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('idempotency_key', models.CharField(max_length=255, verbose_name='idempotency key')),
                ('external_id', models.CharField(blank=True, max_length=255, verbose_name='id at the source')),
                ('deliveries', models.PositiveIntegerField(default=1, verbose_name='deliveries')),
                ('first_seen', models.DateTimeField(verbose_name='first seen')),
                ('last_seen', models.DateTimeField(verbose_name='last seen')),
                ('integration', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='reports', to='intake.integration', verbose_name='integration')),
                ('ticket', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='webhook_reports', to='tickets.ticket', verbose_name='ticket')),
            ],
            options={
                'verbose_name': 'webhook report',
                'verbose_name_plural': 'webhook reports',
                'constraints': [models.UniqueConstraint(fields=('integration', 'idempotency_key'), name='webhook_report_key')],
            },
        ),
        migrations.RunPython(move_reports_out_of_alerts, move_reports_back_to_alerts),
    ]
