"""TRUNCATE skips row triggers: refuse it on the audit table with a statement trigger too."""

from tortoise import migrations
from tortoise.migrations import operations as ops

_UP = """
CREATE TRIGGER integrity_audit_event_no_truncate BEFORE TRUNCATE ON integrity_audit_event
    FOR EACH STATEMENT EXECUTE FUNCTION integrity_audit_event_append_only();
"""
_DOWN = """
DROP TRIGGER IF EXISTS integrity_audit_event_no_truncate ON integrity_audit_event;
"""


async def forwards(apps, schema_editor) -> None:
    await schema_editor.client.execute_script(_UP)


async def backwards(apps, schema_editor) -> None:
    await schema_editor.client.execute_script(_DOWN)


class Migration(migrations.Migration):
    dependencies = [("models", "0007_notice_claims")]

    operations = [ops.RunPython(forwards, backwards)]
