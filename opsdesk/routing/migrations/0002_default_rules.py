from django.db import migrations

# The procedure: urgent/high go at once to the module owner; medium/low to a support engineer
# responsible for the problem type; with no module known the duty engineer triages.
RULES = [
    ("urgent-high-to-module-owner", 10, ["urgent", "high"], "module_owner"),
    ("medium-low-to-support", 20, ["medium", "low"], "support_engineer"),
]


def seed(apps, schema_editor):
    RoutingRule = apps.get_model("routing", "RoutingRule")
    for name, order, priorities, assign_to in RULES:
        RoutingRule.objects.get_or_create(
            name=name,
            defaults={"order": order, "priorities": priorities, "assign_to": assign_to,
                      "requires_module": True},
        )


class Migration(migrations.Migration):
    dependencies = [("routing", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
