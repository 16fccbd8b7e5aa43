from enum import StrEnum
from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise.fields.base import OnDelete
from uuid import uuid4
from tortoise import fields
from tortoise.migrations.constraints import UniqueConstraint


class NoticeStatus(StrEnum):
    # Frozen at this migration: the members as they were when it was written.
    PENDING = 'pending'
    SENT = 'sent'
    SKIPPED = 'skipped'
    FAILED = 'failed'


class ApplicationStatus(StrEnum):
    # Frozen at this migration: the members as they were when it was written.
    RECEIVED = 'received'
    ACCEPTED = 'accepted'
    MATERIALS_REQUESTED = 'materials_requested'
    REFUSED = 'refused'


class ApplicationSource(StrEnum):
    # Frozen at this migration: the members as they were when it was written.
    WINDOW = 'window'
    RESIDENT = 'resident'


class Migration(migrations.Migration):
    dependencies = [('models', '0005_triage')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ApplicationDocument',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('application', fields.ForeignKeyField('models.Application', source_field='application_id', db_constraint=True, to_field='id', related_name='documents', on_delete=OnDelete.CASCADE)),
                ('client_photo_id', fields.UUIDField()),
                ('sha256', fields.CharField(max_length=64)),
                ('mime', fields.CharField(max_length=32)),
                ('size', fields.IntField()),
                ('original_key', fields.CharField(max_length=255)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'cases_application_document', 'app': 'models', 'unique_together': (('application', 'client_photo_id'),), 'pk_attr': 'id', 'table_description': 'A supporting photo of an application (kept private, clerks see it by presigned link).'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ApplicationEvent',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('application', fields.ForeignKeyField('models.Application', source_field='application_id', db_constraint=True, to_field='id', related_name='events', on_delete=OnDelete.CASCADE)),
                ('at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('kind', fields.CharField(max_length=32)),
                ('message', fields.CharField(max_length=255)),
                ('actor_label', fields.CharField(default='', max_length=96)),
            ],
            options={'table': 'cases_application_event', 'app': 'models', 'pk_attr': 'id', 'table_description': "The application's timeline as the applicant reads it."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Notice',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('user_id', fields.UUIDField(db_index=True)),
                ('item_kind', fields.CharField(max_length=16)),
                ('item_id', fields.UUIDField()),
                ('page', fields.CharField(max_length=255)),
                ('data', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('status', fields.CharEnumField(default=NoticeStatus.PENDING, description='PENDING: pending\nSENT: sent\nSKIPPED: skipped\nFAILED: failed', enum_type=NoticeStatus, max_length=16)),
                ('attempts', fields.IntField(default=0)),
                ('error', fields.CharField(null=True, max_length=255)),
                ('created_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=True)),
                ('sent_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'notify_notice', 'app': 'models', 'pk_attr': 'id', 'table_description': 'One status message to one resident, written in the transaction of the change it tells.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='SubscribeConsent',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user_id', fields.UUIDField()),
                ('template_id', fields.CharField(max_length=128)),
                ('remaining', fields.IntField(default=0)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'notify_subscribe_consent', 'app': 'models', 'unique_together': (('user_id', 'template_id'),), 'pk_attr': 'id', 'table_description': 'How many one-time consents a resident has given for a template (each allows one send).'},
            bases=['Model'],
        ),
        ops.AlterModelOptions(
            name='Application',
            options={'table': 'cases_application', 'app': 'models', 'unique_together': (('resident_id', 'client_id'),), 'pk_attr': 'id', 'table_description': "An application of one category, filed at the window of the applicant's 户籍 township."},
        ),
        ops.AlterField(
            model_name='Application',
            name='status',
            field=fields.CharEnumField(default=ApplicationStatus.RECEIVED, description='RECEIVED: received\nACCEPTED: accepted\nMATERIALS_REQUESTED: materials_requested\nREFUSED: refused', enum_type=ApplicationStatus, max_length=24),
        ),
        ops.AddField(
            model_name='Application',
            name='applicant_id_enc',
            field=fields.TextField(null=True, unique=False),
        ),
        ops.AddField(
            model_name='Application',
            name='applicant_id_index',
            field=fields.CharField(null=True, db_index=True, max_length=64),
        ),
        ops.AddField(
            model_name='Application',
            name='applicant_phone_enc',
            field=fields.TextField(null=True, unique=False),
        ),
        ops.AddField(
            model_name='Application',
            name='assets',
            field=fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads),
        ),
        ops.AddField(
            model_name='Application',
            name='client_id',
            field=fields.UUIDField(null=True),
        ),
        ops.AddField(
            model_name='Application',
            name='consent_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Application',
            name='consent_signed_name',
            field=fields.CharField(default='', max_length=64),
        ),
        ops.AddField(
            model_name='Application',
            name='content_review',
            field=fields.BooleanField(default=False),
        ),
        ops.AddField(
            model_name='Application',
            name='county_code',
            field=fields.CharField(default='', db_index=True, max_length=6),
        ),
        ops.AddField(
            model_name='Application',
            name='hukou_village_code',
            field=fields.CharField(null=True, max_length=12),
        ),
        ops.AddField(
            model_name='Application',
            name='income_monthly_fen',
            field=fields.BigIntField(null=True),
        ),
        ops.AddField(
            model_name='Application',
            name='members',
            field=fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads),
        ),
        ops.AddField(
            model_name='Application',
            name='on_behalf',
            field=fields.BooleanField(default=False),
        ),
        ops.AddField(
            model_name='Application',
            name='reason',
            field=fields.TextField(default='', unique=False),
        ),
        ops.AddField(
            model_name='Application',
            name='request_hash',
            field=fields.CharField(default='', max_length=64),
        ),
        ops.AddField(
            model_name='Application',
            name='resident_id',
            field=fields.UUIDField(null=True, db_index=True),
        ),
        ops.AddField(
            model_name='Application',
            name='source',
            field=fields.CharEnumField(default=ApplicationSource.WINDOW, description='WINDOW: window\nRESIDENT: resident', enum_type=ApplicationSource, max_length=16),
        ),
        ops.AddField(
            model_name='Application',
            name='updated_at',
            field=fields.DatetimeField(auto_now=True, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Application',
            name='version',
            field=fields.IntField(default=1),
        ),
        ops.AddConstraint(
            model_name='Application',
            constraint=UniqueConstraint(fields=('resident_id', 'client_id'), name=None),
        ),
        ops.AddField(
            model_name='Lead',
            name='contact_phone_enc',
            field=fields.TextField(null=True, unique=False),
        ),
        ops.AddField(
            model_name='Lead',
            name='content_review',
            field=fields.BooleanField(default=False),
        ),
        ops.AddField(
            model_name='Lead',
            name='device_id',
            field=fields.CharField(null=True, max_length=64),
        ),
        ops.AddField(
            model_name='Lead',
            name='for_self',
            field=fields.BooleanField(default=False),
        ),
        ops.AddField(
            model_name='Lead',
            name='subject_relation',
            field=fields.CharField(default='', max_length=32),
        ),
    ]
