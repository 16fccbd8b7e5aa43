from enum import StrEnum
from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise.fields.base import OnDelete
from uuid import uuid4
from tortoise import fields


class Level(StrEnum):
    # Frozen at this migration: the members as they were when it was written.
    PROVINCE = 'province'
    CITY = 'city'
    COUNTY = 'county'
    TOWNSHIP = 'township'
    VILLAGE = 'village'


class UserKind(StrEnum):
    # Frozen at this migration: the members as they were when it was written.
    RESIDENT = 'resident'
    GRID_WORKER = 'grid_worker'
    STAFF = 'staff'


class Role(StrEnum):
    # Frozen at this migration: the members as they were when it was written.
    WINDOW_CLERK = 'window_clerk'
    INVESTIGATOR = 'investigator'
    TOWNSHIP_HEAD = 'township_head'
    COUNTY_APPROVER = 'county_approver'
    DEPARTMENT_OFFICER = 'department_officer'
    SUPERVISOR = 'supervisor'
    ADMIN = 'admin'


class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name='AuditEvent',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=True)),
                ('actor_id', fields.UUIDField(null=True)),
                ('actor_label', fields.CharField(default='', max_length=96)),
                ('action', fields.CharField(db_index=True, max_length=64)),
                ('entity', fields.CharField(max_length=32)),
                ('entity_id', fields.CharField(db_index=True, max_length=64)),
                ('jurisdiction', fields.CharField(null=True, db_index=True, max_length=12)),
                ('before', fields.JSONField(null=True, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('after', fields.JSONField(null=True, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('request_id', fields.CharField(null=True, max_length=64)),
                ('prev_hash', fields.CharField(null=True, max_length=64)),
                ('hash', fields.CharField(null=True, max_length=64)),
            ],
            options={'table': 'integrity_audit_event', 'app': 'models', 'pk_attr': 'id', 'table_description': 'One state change: who, what, when, before and after. Never updated or deleted.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='CategoryRoute',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('county_code', fields.CharField(db_index=True, max_length=6)),
                ('category', fields.CharField(max_length=16)),
                ('department_kind', fields.CharField(max_length=16)),
            ],
            options={'table': 'windows_category_route', 'app': 'models', 'unique_together': (('county_code', 'category'),), 'pk_attr': 'id', 'table_description': "A county's override of the national category -> department default."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Department',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('county_code', fields.CharField(db_index=True, max_length=6)),
                ('kind', fields.CharField(max_length=16)),
                ('name', fields.CharField(max_length=128)),
                ('phone', fields.CharField(default='', max_length=32)),
            ],
            options={'table': 'windows_department', 'app': 'models', 'unique_together': (('county_code', 'kind'),), 'pk_attr': 'id', 'table_description': 'A county department that receives referrals (民政, 医疗保障, 教育 ...).'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Division',
            fields=[
                ('code', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=12)),
                ('name', fields.CharField(max_length=64)),
                ('level', fields.CharEnumField(description='PROVINCE: province\nCITY: city\nCOUNTY: county\nTOWNSHIP: township\nVILLAGE: village', enum_type=Level, max_length=16)),
                ('parent_code', fields.CharField(null=True, db_index=True, max_length=12)),
                ('county_code', fields.CharField(null=True, db_index=True, max_length=6)),
                ('kind', fields.CharField(null=True, max_length=8)),
                ('version', fields.CharField(max_length=16)),
                ('abolished', fields.BooleanField(default=False)),
                ('lng', fields.FloatField(null=True)),
                ('lat', fields.FloatField(null=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'geo_division', 'app': 'models', 'pk_attr': 'code', 'table_description': 'A province, city, county, township or village/community, by its code.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='User',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('kind', fields.CharEnumField(description='RESIDENT: resident\nGRID_WORKER: grid_worker\nSTAFF: staff', enum_type=UserKind, max_length=16)),
                ('username', fields.CharField(null=True, unique=True, max_length=64)),
                ('password_hash', fields.CharField(null=True, max_length=255)),
                ('openid', fields.CharField(null=True, unique=True, max_length=64)),
                ('display_name', fields.CharField(default='', max_length=64)),
                ('role', fields.CharEnumField(null=True, description='WINDOW_CLERK: window_clerk\nINVESTIGATOR: investigator\nTOWNSHIP_HEAD: township_head\nCOUNTY_APPROVER: county_approver\nDEPARTMENT_OFFICER: department_officer\nSUPERVISOR: supervisor\nADMIN: admin', enum_type=Role, max_length=32)),
                ('jurisdiction', fields.CharField(null=True, db_index=True, max_length=12)),
                ('phone_enc', fields.TextField(null=True, unique=False)),
                ('phone_index', fields.CharField(null=True, db_index=True, max_length=64)),
                ('is_active', fields.BooleanField(default=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'accounts_user', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A person who signs in: a resident (WeChat openid), a grid worker or a staff member.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='GridAssignment',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name='grid', on_delete=OnDelete.CASCADE)),
                ('village_code', fields.CharField(db_index=True, max_length=12)),
            ],
            options={'table': 'accounts_grid_assignment', 'app': 'models', 'unique_together': (('user', 'village_code'),), 'pk_attr': 'id', 'table_description': "One village or community in a grid worker's grid."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Window',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('township_code', fields.CharField(unique=True, max_length=9)),
                ('name', fields.CharField(max_length=128)),
                ('address', fields.CharField(default='', max_length=255)),
                ('opening_hours', fields.CharField(default='', max_length=255)),
                ('phone', fields.CharField(default='', max_length=32)),
                ('complaint_phone', fields.CharField(default='', max_length=32)),
                ('policies', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('duties', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('version', fields.IntField(default=1)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'windows_window', 'app': 'models', 'pk_attr': 'id', 'table_description': "A township's one-door window and what it posts (一明显三上墙)."},
            bases=['Model'],
        ),
    ]
