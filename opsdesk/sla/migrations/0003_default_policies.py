from datetime import time, timedelta

from django.db import migrations

# The procedure's promises: urgent and high get a response within 15 minutes, medium and low
# within 2 hours. Resolution defaults: urgent 4 h around the clock, high 1 business day,
# medium 3 business days, low 10 business days (a business day is 09:00–18:00, 9 hours).
DAY = timedelta(hours=9)
POLICIES = [
    # name, order, priority, response, resolution, business hours?
    ("紧急 · urgent", 910, 1, timedelta(minutes=15), timedelta(hours=4), False),
    ("高 · high", 920, 2, timedelta(minutes=15), DAY, True),
    ("中 · medium", 930, 3, timedelta(hours=2), 3 * DAY, True),
    ("低 · low", 940, 4, timedelta(hours=2), 10 * DAY, True),
]


def seed(apps, schema_editor):
    BusinessCalendar = apps.get_model("sla", "BusinessCalendar")
    SlaPolicy = apps.get_model("sla", "SlaPolicy")
    workdays, _created = BusinessCalendar.objects.get_or_create(
        name="工作日 09:00–18:00",
        defaults={"time_zone": "Asia/Shanghai", "day_start": time(9), "day_end": time(18),
                  "use_statutory_holidays": True},
    )
    for name, order, priority, response, resolution, business in POLICIES:
        SlaPolicy.objects.get_or_create(
            name=name,
            defaults={"order": order, "priority": priority, "response_target": response,
                      "resolution_target": resolution,
                      "calendar": workdays if business else None},
        )


class Migration(migrations.Migration):
    dependencies = [("sla", "0002_slapolicy_clock_notice_and_more")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
