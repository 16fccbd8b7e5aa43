"""Indexes the models declared but earlier migrations never built.

Tortoise's AddField records `db_index=True` in the migration state without creating the index,
so three columns added after their table was created have none (found by
tests/platform/test_schema.py, which compares the models with the live schema). A field added
with AddField and `db_index=True` needs its index written here by hand, like these.
"""

from tortoise import migrations
from tortoise.migrations import operations as ops

_INDEXES = (
    ("idx_intake_lead_assigned_to", "intake_lead", "assigned_to_id"),
    ("idx_cases_application_applicant_index", "cases_application", "applicant_id_index"),
    ("idx_cases_application_county", "cases_application", "county_code"),
)


async def forwards(apps, schema_editor) -> None:
    for name, table, column in _INDEXES:
        await schema_editor.client.execute_script(
            f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" ("{column}")'
        )


async def backwards(apps, schema_editor) -> None:
    for name, _, _ in _INDEXES:
        await schema_editor.client.execute_script(f'DROP INDEX IF EXISTS "{name}"')


class Migration(migrations.Migration):
    dependencies = [("models", "0008_audit_no_truncate")]

    operations = [ops.RunPython(forwards, backwards)]
