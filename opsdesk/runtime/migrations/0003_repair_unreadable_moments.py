from django.db import migrations

from opsdesk.runtime.repair import repair_unreadable_moments


class Migration(migrations.Migration):
    """Moments stored out of Python's range before inputs were bounded broke every list."""

    dependencies = [
        ('runtime', '0002_worker_heartbeat'),
        ('tickets', '0017_review_timeline_kind'),
    ]

    operations = [
        migrations.RunPython(repair_unreadable_moments, migrations.RunPython.noop),
    ]
