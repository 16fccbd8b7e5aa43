"""Make the audit table append-only in the database itself, not just by convention."""

from tortoise import migrations
from tortoise.migrations import operations as ops

_UP = """
CREATE OR REPLACE FUNCTION integrity_audit_event_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'integrity_audit_event is append-only';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER integrity_audit_event_no_update BEFORE UPDATE OR DELETE ON integrity_audit_event
    FOR EACH ROW EXECUTE FUNCTION integrity_audit_event_append_only();
"""
_DOWN = """
DROP TRIGGER IF EXISTS integrity_audit_event_no_update ON integrity_audit_event;
DROP FUNCTION IF EXISTS integrity_audit_event_append_only();
"""


async def forwards(apps, schema_editor) -> None:
    await schema_editor.client.execute_script(_UP)


async def backwards(apps, schema_editor) -> None:
    await schema_editor.client.execute_script(_DOWN)


class Migration(migrations.Migration):
    dependencies = [("models", "0001_initial")]

    operations = [ops.RunPython(forwards, backwards)]
