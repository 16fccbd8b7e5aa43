from enum import StrEnum
from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields


class NoticeStatus(StrEnum):
    # Frozen at this migration: the members as they were when it was written.
    PENDING = 'pending'
    SENDING = 'sending'
    SENT = 'sent'
    SKIPPED = 'skipped'
    FAILED = 'failed'


class Migration(migrations.Migration):
    dependencies = [('models', '0006_mp_residents')]

    initial = False

    operations = [
        ops.AddField(
            model_name='LeadEvent',
            name='public_message',
            field=fields.CharField(null=True, max_length=255),
        ),
        ops.AlterField(
            model_name='Notice',
            name='status',
            field=fields.CharEnumField(default=NoticeStatus.PENDING, description='PENDING: pending\nSENDING: sending\nSENT: sent\nSKIPPED: skipped\nFAILED: failed', enum_type=NoticeStatus, max_length=16),
        ),
        ops.AddField(
            model_name='Notice',
            name='lease_until',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Notice',
            name='next_attempt_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
    ]
