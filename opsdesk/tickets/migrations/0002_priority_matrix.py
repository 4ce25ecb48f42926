from django.db import migrations

# The default impact × urgency matrix (see opsdesk/tickets/priority.py), stored so the admin
# can edit it. 1 urgent, 2 high, 3 medium, 4 low.
MATRIX = {
    "all_users": {"immediate": 1, "high": 1, "normal": 2, "low": 2},
    "some_users": {"immediate": 1, "high": 2, "normal": 2, "low": 3},
    "few_users": {"immediate": 2, "high": 3, "normal": 3, "low": 4},
    "none": {"immediate": 3, "high": 4, "normal": 4, "low": 4},
}


def seed(apps, schema_editor):
    PriorityRule = apps.get_model("tickets", "PriorityRule")
    for impact, row in MATRIX.items():
        for urgency, priority in row.items():
            PriorityRule.objects.get_or_create(impact=impact, urgency=urgency,
                                               defaults={"priority": priority})


class Migration(migrations.Migration):
    dependencies = [("tickets", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
