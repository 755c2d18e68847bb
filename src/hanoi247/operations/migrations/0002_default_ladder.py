"""The ladder every node starts with (docs/operations.md); the node administrator changes
it in the admin: officer on call at the deadline, supervisors 15 minutes later, the head
of unit (the central authority's people, until a named person is set) after an hour."""

from typing import Any

from django.db import migrations

DEFAULT = [
    (1, 0, "on_call", "Officer on call"),
    (2, 15, "supervisor", "Supervisor"),
    (3, 60, "central_authority", "Head of unit"),
]


def seed(apps: Any, schema_editor: Any) -> None:
    rung = apps.get_model("operations", "EscalationRung")
    if not rung.objects.exists():
        rung.objects.bulk_create(
            [rung(order=o, after_minutes=m, role=r, label=label) for o, m, r, label in DEFAULT]
        )


class Migration(migrations.Migration):
    dependencies = [("operations", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
