from enum import StrEnum
from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise.fields.base import OnDelete
from uuid import uuid4
from tortoise import fields


class LeadSource(StrEnum):
    # Frozen at this migration: the members as they were when it was written.
    GRID_WORKER = 'grid_worker'
    RESIDENT = 'resident'


class LeadStatus(StrEnum):
    # Frozen at this migration: the members as they were when it was written.
    RECEIVED = 'received'
    ACKNOWLEDGED = 'acknowledged'
    CLOSED = 'closed'


class PhotoStatus(StrEnum):
    # Frozen at this migration: the members as they were when it was written.
    RECEIVED = 'received'
    PROCESSED = 'processed'
    FAILED = 'failed'


class Migration(migrations.Migration):
    dependencies = [('models', '0003_boundaries')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Counter',
            fields=[
                ('key', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=32)),
                ('value', fields.IntField(default=0)),
            ],
            options={'table': 'intake_counter', 'app': 'models', 'pk_attr': 'key', 'table_description': 'Sequences for numbers people read out (township, year).'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Lead',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('number', fields.CharField(unique=True, max_length=32)),
                ('source', fields.CharEnumField(description='GRID_WORKER: grid_worker\nRESIDENT: resident', enum_type=LeadSource, max_length=16)),
                ('reporter_id', fields.UUIDField(db_index=True)),
                ('client_id', fields.UUIDField()),
                ('request_hash', fields.CharField(max_length=64)),
                ('status', fields.CharEnumField(default=LeadStatus.RECEIVED, description='RECEIVED: received\nACKNOWLEDGED: acknowledged\nCLOSED: closed', enum_type=LeadStatus, max_length=16)),
                ('township_code', fields.CharField(null=True, db_index=True, max_length=9)),
                ('county_code', fields.CharField(db_index=True, max_length=6)),
                ('routed_by', fields.CharField(max_length=16)),
                ('ambiguous', fields.BooleanField(default=False)),
                ('subject_name', fields.CharField(max_length=64)),
                ('subject_phone_enc', fields.TextField(null=True, unique=False)),
                ('subject_id_enc', fields.TextField(null=True, unique=False)),
                ('subject_id_index', fields.CharField(null=True, db_index=True, max_length=64)),
                ('subject_address', fields.CharField(default='', max_length=255)),
                ('subject_village_code', fields.CharField(null=True, max_length=12)),
                ('household_size', fields.IntField(null=True)),
                ('hardship', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('description', fields.TextField(unique=False)),
                ('urgent', fields.BooleanField(default=False)),
                ('lat', fields.FloatField(null=True)),
                ('lng', fields.FloatField(null=True)),
                ('accuracy_m', fields.FloatField(null=True)),
                ('sent_location', fields.JSONField(null=True, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('h3_cell', fields.CharField(null=True, db_index=True, max_length=16)),
                ('captured_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('observed_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('ack_due_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('version', fields.IntField(default=1)),
            ],
            options={'table': 'intake_lead', 'app': 'models', 'unique_together': (('reporter_id', 'client_id'),), 'pk_attr': 'id', 'table_description': 'A household in hardship reported to a township window (主动发现线索).'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='LeadEvent',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('lead', fields.ForeignKeyField('models.Lead', source_field='lead_id', db_constraint=True, to_field='id', related_name='events', on_delete=OnDelete.CASCADE)),
                ('at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('kind', fields.CharField(max_length=32)),
                ('message', fields.CharField(max_length=255)),
            ],
            options={'table': 'intake_lead_event', 'app': 'models', 'pk_attr': 'id', 'table_description': "The lead's timeline as its sender sees it (received, routed, photo processed, ...)."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='LeadPhoto',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('lead', fields.ForeignKeyField('models.Lead', source_field='lead_id', db_constraint=True, to_field='id', related_name='photos', on_delete=OnDelete.CASCADE)),
                ('client_photo_id', fields.UUIDField()),
                ('sha256', fields.CharField(max_length=64)),
                ('mime', fields.CharField(max_length=32)),
                ('size', fields.IntField()),
                ('original_key', fields.CharField(max_length=255)),
                ('display_key', fields.CharField(null=True, max_length=255)),
                ('thumb_key', fields.CharField(null=True, max_length=255)),
                ('status', fields.CharEnumField(default=PhotoStatus.RECEIVED, description='RECEIVED: received\nPROCESSED: processed\nFAILED: failed', enum_type=PhotoStatus, max_length=16)),
                ('attempts', fields.IntField(default=0)),
                ('error', fields.CharField(null=True, max_length=255)),
                ('width', fields.IntField(null=True)),
                ('height', fields.IntField(null=True)),
                ('phash', fields.CharField(null=True, db_index=True, max_length=16)),
                ('exif_lat', fields.FloatField(null=True)),
                ('exif_lng', fields.FloatField(null=True)),
                ('exif_time', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('exif_distance_m', fields.FloatField(null=True)),
                ('exif_minutes_off', fields.FloatField(null=True)),
                ('camera', fields.CharField(null=True, max_length=96)),
                ('created_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=True)),
                ('processed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'intake_lead_photo', 'app': 'models', 'unique_together': (('lead', 'client_photo_id'),), 'pk_attr': 'id', 'table_description': 'A photo of a lead: the private original and, once processed, its copies and evidence.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='SuspectedDuplicate',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('lead', fields.ForeignKeyField('models.Lead', source_field='lead_id', db_constraint=True, to_field='id', related_name='duplicates', on_delete=OnDelete.CASCADE)),
                ('other', fields.ForeignKeyField('models.Lead', source_field='other_id', db_constraint=True, to_field='id', related_name='duplicated_by', on_delete=OnDelete.CASCADE)),
                ('reasons', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'intake_suspected_duplicate', 'app': 'models', 'unique_together': (('lead', 'other'),), 'pk_attr': 'id', 'table_description': 'Two leads that may be the same household, for a clerk to judge (never merged here).'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Window',
            name='lat',
            field=fields.FloatField(null=True),
        ),
        ops.AddField(
            model_name='Window',
            name='lng',
            field=fields.FloatField(null=True),
        ),
    ]
