"""Targets get an explicit unit: minutes, hours, or business days counted as working days.

Until now a target was a duration, and "3 business days" was stored as 27 hours (three 9-hour
days), which a lunch break added later silently stretched. Existing values keep what they mean
today: a target on a calendar with working hours that is a whole number of that calendar's
working days (27 hours on a 09:00–18:00 calendar) becomes that many business days; any other
(15 minutes, 2 hours, 4 hours around the clock, 4.5 hours) stays minutes or whole hours as it
was. The clocks of open tickets are read the same way, their time spent on a target in days
converted to working days, so that every deadline stays where it was.
"""

from datetime import datetime, timedelta
from decimal import Decimal

import django.core.validators
from django.db import migrations, models

MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
CLOSED = ("closed", "archived")


def _day_length(calendar):
    """Business time in an ordinary working day of ``calendar``; None around the clock."""
    if calendar is None or calendar.is_24x7:
        return None

    def since_midnight(t):
        return datetime.combine(datetime.min, t) - datetime.min

    length = since_midnight(calendar.day_end) - since_midnight(calendar.day_start)
    if calendar.lunch_start is not None and calendar.lunch_end is not None:
        length -= since_midnight(calendar.lunch_end) - since_midnight(calendar.lunch_start)
    return length


def _whole_days(duration, calendar):
    """N if ``duration`` is N ≥ 1 whole working days of ``calendar``, else None."""
    length = _day_length(calendar)
    if length and duration >= length and duration % length == timedelta(0):
        return duration // length
    return None


def _amount_and_unit(duration, calendar):
    days = _whole_days(duration, calendar)
    if days is not None:
        return Decimal(days), "business_days"
    if duration % HOUR == timedelta(0):
        return Decimal(duration // HOUR), "hours"
    return Decimal(duration // MINUTE), "minutes"


def to_units(apps, schema_editor):
    SlaPolicy = apps.get_model("sla", "SlaPolicy")
    Clock = apps.get_model("sla", "Clock")
    for policy in SlaPolicy.objects.select_related("calendar"):
        policy.response_amount, policy.response_unit = _amount_and_unit(
            policy.response_target, policy.calendar)
        policy.resolution_amount, policy.resolution_unit = _amount_and_unit(
            policy.resolution_target, policy.calendar)
        policy.save()
    open_clocks = (Clock.objects.exclude(ticket__status__in=CLOSED)
                   .filter(calendar__is_24x7=False).select_related("calendar"))
    changed = []
    for clock in open_clocks.iterator(chunk_size=2000):
        clock.response_days = _whole_days(clock.response_target, clock.calendar)
        clock.resolution_days = _whole_days(clock.resolution_target, clock.calendar)
        if clock.resolution_days is not None:
            length = _day_length(clock.calendar)
            clock.resolution_spent = clock.resolution_spent / length * timedelta(days=1)
        if clock.response_days is not None or clock.resolution_days is not None:
            changed.append(clock)
    Clock.objects.bulk_update(changed, ["response_days", "resolution_days",
                                        "resolution_spent"], batch_size=500)


def to_durations(apps, schema_editor):
    SlaPolicy = apps.get_model("sla", "SlaPolicy")
    Clock = apps.get_model("sla", "Clock")
    per_unit = {"minutes": MINUTE, "hours": HOUR}
    for policy in SlaPolicy.objects.select_related("calendar"):
        day = _day_length(policy.calendar) or timedelta(days=1)
        for name in ("response", "resolution"):
            amount = getattr(policy, f"{name}_amount")
            unit = per_unit.get(getattr(policy, f"{name}_unit"), day)
            setattr(policy, f"{name}_target", unit * float(amount))
        policy.save()
    for clock in Clock.objects.filter(resolution_days__isnull=False).select_related("calendar"):
        clock.resolution_spent = clock.resolution_spent / timedelta(days=1) * (
            _day_length(clock.calendar) or timedelta(days=1))
        clock.save(update_fields=["resolution_spent"])


TARGET_UNITS = [("minutes", "minutes"), ("hours", "hours"), ("business_days", "business days")]


class Migration(migrations.Migration):
    dependencies = [
        ("sla", "0004_dashboard_stop_indexes"),
        ("tickets", "0012_work_log_internal"),
    ]

    operations = [
        migrations.AddField(
            model_name="slapolicy", name="response_amount",
            field=models.DecimalField(decimal_places=2, max_digits=7, null=True),
        ),
        migrations.AddField(
            model_name="slapolicy", name="response_unit",
            field=models.CharField(choices=TARGET_UNITS, default="minutes", max_length=20,
                                   verbose_name="unit"),
        ),
        migrations.AddField(
            model_name="slapolicy", name="resolution_amount",
            field=models.DecimalField(decimal_places=2, max_digits=7, null=True),
        ),
        migrations.AddField(
            model_name="slapolicy", name="resolution_unit",
            field=models.CharField(
                choices=TARGET_UNITS, default="business_days", max_length=20,
                verbose_name="unit",
                help_text="Business days are working days of the calendar, however long each "
                          "one is; minutes and hours are counted inside its working hours."),
        ),
        migrations.AlterField(
            model_name="slapolicy", name="response_target",
            field=models.DurationField(null=True, verbose_name="response target"),
        ),
        migrations.AlterField(
            model_name="slapolicy", name="resolution_target",
            field=models.DurationField(null=True, verbose_name="resolution target"),
        ),
        migrations.AddField(
            model_name="clock", name="response_days",
            field=models.DecimalField(decimal_places=2, max_digits=7, null=True),
        ),
        migrations.AddField(
            model_name="clock", name="resolution_days",
            field=models.DecimalField(decimal_places=2, max_digits=7, null=True),
        ),
        migrations.RunPython(to_units, to_durations),
        migrations.RemoveField(model_name="slapolicy", name="response_target"),
        migrations.RemoveField(model_name="slapolicy", name="resolution_target"),
        migrations.AlterField(
            model_name="slapolicy", name="response_amount",
            field=models.DecimalField(
                decimal_places=2, max_digits=7, verbose_name="response target",
                validators=[django.core.validators.MinValueValidator(Decimal("0.01"))]),
        ),
        migrations.AlterField(
            model_name="slapolicy", name="resolution_amount",
            field=models.DecimalField(
                decimal_places=2, max_digits=7, verbose_name="resolution target",
                validators=[django.core.validators.MinValueValidator(Decimal("0.01"))]),
        ),
        migrations.CreateModel(
            name="ScheduleReminder",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False,
                                           verbose_name="ID")),
                ("year", models.PositiveSmallIntegerField(unique=True)),
                ("sent_at", models.DateTimeField()),
                ("holidays", models.JSONField(default=list,
                                              help_text="The computed holidays listed.")),
            ],
        ),
    ]
