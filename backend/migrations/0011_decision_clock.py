"""The decision clock of an application: accepted, due, extended once with a reason."""

from tortoise import fields, migrations
from tortoise.migrations import operations as ops

from backend.config import load_settings
from backend.workdays import WorkCalendar


class AddFieldToState(ops.AddField):
    """AddField for the migration state only; forwards() adds the column itself.

    Tortoise adds a NOT NULL column without a database default, which fails on a table that
    already has rows (every installation with applications): the column is added with
    DEFAULT '' instead.
    """

    async def database_forward(self, app_label, old_state, new_state, state_editor=None):
        return None

    async def database_backward(self, app_label, old_state, new_state, state_editor=None):
        return None


async def forwards(apps, schema_editor) -> None:
    client = schema_editor.client
    await client.execute_script(
        "ALTER TABLE cases_application "
        "ADD COLUMN IF NOT EXISTS extension_reason VARCHAR(200) NOT NULL DEFAULT ''"
    )
    # AddField(db_index=True) builds no index (see 0009): written here by hand.
    await client.execute_script(
        'CREATE INDEX IF NOT EXISTS "idx_cases_application_decision_due" '
        'ON "cases_application" ("decision_due_at")'
    )
    # Cases accepted before the clock existed get theirs from their first 'accepted' event,
    # with the calendar and limit configured now, so they too count as overdue in time.
    settings = load_settings()
    calendar = WorkCalendar.parse(settings.holidays, settings.makeup_workdays)
    rows = await client.execute_query_dict(
        "SELECT a.id, min(e.at) AS at FROM cases_application a "
        "JOIN cases_application_event e ON e.application_id = a.id AND e.kind = 'accepted' "
        "WHERE a.status = 'accepted' AND a.accepted_at IS NULL GROUP BY a.id"
    )
    for row in rows:
        due = calendar.add_working_days(row["at"], settings.decision_working_days)
        await client.execute_query(
            "UPDATE cases_application SET accepted_at = $2, decision_due_at = $3 WHERE id = $1",
            [row["id"], row["at"], due],
        )


async def backwards(apps, schema_editor) -> None:
    await schema_editor.client.execute_script(
        'DROP INDEX IF EXISTS "idx_cases_application_decision_due"; '
        "ALTER TABLE cases_application DROP COLUMN IF EXISTS extension_reason"
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
        AddFieldToState(
            model_name="Application",
            name="extension_reason",
            field=fields.CharField(default="", max_length=200),
        ),
        ops.RunPython(forwards, backwards),
    ]
