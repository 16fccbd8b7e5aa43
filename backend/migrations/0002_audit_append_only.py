"""Make the audit table append-only in the database itself, not just by convention."""

from tortoise import migrations
from tortoise.migrations import operations as ops

_PG_UP = """
CREATE OR REPLACE FUNCTION integrity_audit_event_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'integrity_audit_event is append-only';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER integrity_audit_event_no_update BEFORE UPDATE OR DELETE ON integrity_audit_event
    FOR EACH ROW EXECUTE FUNCTION integrity_audit_event_append_only();
"""
_PG_DOWN = """
DROP TRIGGER IF EXISTS integrity_audit_event_no_update ON integrity_audit_event;
DROP FUNCTION IF EXISTS integrity_audit_event_append_only();
"""
_SQLITE_UP = """
CREATE TRIGGER integrity_audit_event_no_update BEFORE UPDATE ON integrity_audit_event
BEGIN SELECT RAISE(ABORT, 'integrity_audit_event is append-only'); END;
CREATE TRIGGER integrity_audit_event_no_delete BEFORE DELETE ON integrity_audit_event
BEGIN SELECT RAISE(ABORT, 'integrity_audit_event is append-only'); END;
"""
_SQLITE_DOWN = """
DROP TRIGGER IF EXISTS integrity_audit_event_no_update;
DROP TRIGGER IF EXISTS integrity_audit_event_no_delete;
"""


def _dialect(schema_editor) -> str:
    return schema_editor.client.capabilities.dialect


async def forwards(apps, schema_editor) -> None:
    sql = _PG_UP if _dialect(schema_editor) == "postgres" else _SQLITE_UP
    await schema_editor.client.execute_script(sql)


async def backwards(apps, schema_editor) -> None:
    sql = _PG_DOWN if _dialect(schema_editor) == "postgres" else _SQLITE_DOWN
    await schema_editor.client.execute_script(sql)


class Migration(migrations.Migration):
    dependencies = [("models", "0001_initial")]

    operations = [ops.RunPython(forwards, backwards)]
