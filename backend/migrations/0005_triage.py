from enum import StrEnum
from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from uuid import uuid4
from tortoise import fields
from tortoise.indexes import Index


class ApplicationStatus(StrEnum):
    # Frozen at this migration: the members as they were when it was written.
    RECEIVED = 'received'


class ReferralStatus(StrEnum):
    # Frozen at this migration: the members as they were when it was written.
    PENDING = 'pending'
    DONE = 'done'


class LeadStatus(StrEnum):
    # Frozen at this migration: the members as they were when it was written.
    RECEIVED = 'received'
    ACKNOWLEDGED = 'acknowledged'
    REFERRED = 'referred'
    CONVERTED = 'converted'
    MERGED = 'merged'
    CLOSED = 'closed'


class CloseReason(StrEnum):
    # Frozen at this migration: the members as they were when it was written.
    NOT_IN_HARDSHIP = 'not_in_hardship'
    ALREADY_ASSISTED = 'already_assisted'
    UNREACHABLE = 'unreachable'
    MOVED_AWAY = 'moved_away'
    DUPLICATE = 'duplicate'
    OTHER = 'other'


class Migration(migrations.Migration):
    dependencies = [('models', '0004_intake')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Application',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('number', fields.CharField(unique=True, max_length=32)),
                ('category', fields.CharField(max_length=16)),
                ('township_code', fields.CharField(db_index=True, max_length=9)),
                ('lead', fields.ForeignKeyField('models.Lead', source_field='lead_id', null=True, db_constraint=True, to_field='id', related_name='applications', on_delete=OnDelete.SET_NULL)),
                ('applicant_name', fields.CharField(max_length=64)),
                ('status', fields.CharEnumField(default=ApplicationStatus.RECEIVED, description='RECEIVED: received', enum_type=ApplicationStatus, max_length=16)),
                ('created_by_id', fields.UUIDField()),
                ('created_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'cases_application', 'app': 'models', 'pk_attr': 'id', 'table_description': 'An application of one category, filed at a window (by the window itself for 代为申请).'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Referral',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('lead', fields.ForeignKeyField('models.Lead', source_field='lead_id', db_constraint=True, to_field='id', related_name='referrals', on_delete=OnDelete.CASCADE)),
                ('county_code', fields.CharField(max_length=6)),
                ('department_kind', fields.CharField(max_length=16)),
                ('due_date', fields.DateField()),
                ('note', fields.TextField(unique=False)),
                ('status', fields.CharEnumField(default=ReferralStatus.PENDING, description='PENDING: pending\nDONE: done', enum_type=ReferralStatus, max_length=16)),
                ('result', fields.TextField(null=True, unique=False)),
                ('done_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('done_by_id', fields.UUIDField(null=True)),
                ('created_by_id', fields.UUIDField()),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'intake_referral', 'app': 'models', 'indexes': [Index(fields=['county_code', 'department_kind', 'status', 'due_date'])], 'pk_attr': 'id', 'table_description': 'A lead referred to a county department with a due date (转办), and its result.'},
            bases=['Model'],
        ),
        ops.AlterField(
            model_name='Lead',
            name='status',
            field=fields.CharEnumField(default=LeadStatus.RECEIVED, description='RECEIVED: received\nACKNOWLEDGED: acknowledged\nREFERRED: referred\nCONVERTED: converted\nMERGED: merged\nCLOSED: closed', enum_type=LeadStatus, max_length=16),
        ),
        ops.AddField(
            model_name='Lead',
            name='acknowledged_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Lead',
            name='acknowledged_by_id',
            field=fields.UUIDField(null=True),
        ),
        ops.AddField(
            model_name='Lead',
            name='assigned_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Lead',
            name='assigned_to_id',
            field=fields.UUIDField(null=True, db_index=True),
        ),
        ops.AddField(
            model_name='Lead',
            name='closed_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Lead',
            name='closed_by_id',
            field=fields.UUIDField(null=True),
        ),
        ops.AddField(
            model_name='Lead',
            name='closed_note',
            field=fields.TextField(null=True, unique=False),
        ),
        ops.AddField(
            model_name='Lead',
            name='closed_reason',
            field=fields.CharEnumField(null=True, description='NOT_IN_HARDSHIP: not_in_hardship\nALREADY_ASSISTED: already_assisted\nUNREACHABLE: unreachable\nMOVED_AWAY: moved_away\nDUPLICATE: duplicate\nOTHER: other', enum_type=CloseReason, max_length=16),
        ),
        ops.AddField(
            model_name='Lead',
            name='home_visit_done_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Lead',
            name='home_visit_done_by_id',
            field=fields.UUIDField(null=True),
        ),
        ops.AddField(
            model_name='Lead',
            name='home_visit_note',
            field=fields.CharField(default='', max_length=255),
        ),
        ops.AddField(
            model_name='Lead',
            name='home_visit_requested_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Lead',
            name='home_visit_requested_by_id',
            field=fields.UUIDField(null=True),
        ),
        ops.AddField(
            model_name='Lead',
            name='home_visit_result',
            field=fields.TextField(null=True, unique=False),
        ),
        ops.AddField(
            model_name='Lead',
            name='merged_into',
            field=fields.ForeignKeyField('models.Lead', source_field='merged_into_id', null=True, db_constraint=True, to_field='id', related_name='merged_leads', on_delete=OnDelete.SET_NULL),
        ),
        ops.AddField(
            model_name='Lead',
            name='queue_rank',
            field=fields.SmallIntField(default=1),
        ),
        ops.AddField(
            model_name='Lead',
            name='transfer_reason',
            field=fields.CharField(null=True, max_length=255),
        ),
        ops.AddField(
            model_name='Lead',
            name='transferred_from',
            field=fields.CharField(null=True, max_length=9),
        ),
        ops.AddIndex(
            model_name='Lead',
            index=Index(fields=['township_code', 'queue_rank', 'ack_due_at', 'id']),
        ),
        ops.AddIndex(
            model_name='Lead',
            index=Index(fields=['county_code', 'queue_rank', 'ack_due_at', 'id']),
        ),
        ops.AddIndex(
            model_name='Lead',
            index=Index(fields=['township_code', 'status']),
        ),
        ops.AddIndex(
            model_name='Lead',
            index=Index(fields=['county_code', 'status']),
        ),
        ops.AddField(
            model_name='LeadEvent',
            name='actor_label',
            field=fields.CharField(default='', max_length=96),
        ),
        # Leads filed before this migration: derive the queue's sort key once (Lead.save keeps
        # it in step from now on). Open was received or acknowledged then.
        ops.RunSQL(
            "UPDATE intake_lead SET queue_rank = "
            "(CASE WHEN status IN ('received', 'acknowledged') THEN 0 ELSE 2 END) "
            "+ (CASE WHEN urgent THEN 0 ELSE 1 END)",
            reverse_sql=ops.RunSQL.noop,
        ),
    ]
