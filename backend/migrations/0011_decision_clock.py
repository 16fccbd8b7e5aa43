"""The decision clock of an application: accepted, due, extended once with a reason."""

from tortoise import fields, migrations
from tortoise.migrations import operations as ops


async def forwards(apps, schema_editor) -> None:
    # AddField(db_index=True) builds no index (see 0009): written here by hand.
    await schema_editor.client.execute_script(
        'CREATE INDEX IF NOT EXISTS "idx_cases_application_decision_due" '
        'ON "cases_application" ("decision_due_at")'
    )


async def backwards(apps, schema_editor) -> None:
    await schema_editor.client.execute_script(
        'DROP INDEX IF EXISTS "idx_cases_application_decision_due"'
    )


class Migration(migrations.Migration):
    dependencies = [("models", "0010_one_person_index")]

    initial = False

    operations = [
        ops.AddField(
            model_name="Application",
            name="accepted_at",
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name="Application",
            name="decision_due_at",
            field=fields.DatetimeField(
                null=True, db_index=True, auto_now=False, auto_now_add=False
            ),
        ),
        ops.AddField(
            model_name="Application",
            name="extended_at",
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name="Application",
            name="extension_reason",
            field=fields.CharField(default="", max_length=200),
        ),
        ops.RunPython(forwards, backwards),
    ]
