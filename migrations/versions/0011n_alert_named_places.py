"""alerts.named_places: the named areas an alert targets, as its texts name them

Revision ID: 0011n
Revises: 0011a
Create Date: 2026-12-03 19:00:00

A warning to Hailuogou says 海螺沟（泸定县）, not only 泸定县 (issue 16). The names ({"code", "zh", "bo"},
bo null until a sourced one is registered) are kept apart from alerts.area, which lists never load (its
polygons are the bulky part), so the feed and the inbox can render texts without reading the geometry.
Alerts stored before this name no named place.
"""
from alembic import op
import sqlalchemy as sa

revision = '0011n'
down_revision = '0011a'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('named_places', sa.JSON(), nullable=False, server_default=sa.text("'[]'")))


def downgrade():
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.drop_column('named_places')
