from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0002_audit_append_only')]

    initial = False

    operations = [
        ops.CreateModel(
            name='TownshipBoundary',
            fields=[
                ('township_code', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=9)),
                ('county_code', fields.CharField(db_index=True, max_length=6)),
                ('geometry_wkb', fields.BinaryField()),
                ('min_lng', fields.FloatField()),
                ('min_lat', fields.FloatField()),
                ('max_lng', fields.FloatField()),
                ('max_lat', fields.FloatField()),
                ('source_crs', fields.CharField(max_length=8)),
                ('source_name', fields.CharField(default='', max_length=255)),
                ('generation', fields.IntField(default=1)),
                ('imported_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'geo_township_boundary', 'app': 'models', 'pk_attr': 'township_code', 'table_description': 'The polygon of a township in WGS-84, as imported (the routing index is built from these).'},
            bases=['Model'],
        ),
    ]
