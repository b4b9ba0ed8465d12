"""named_areas: places targeted by name (scenic areas), with their shape, source and accuracy

Revision ID: 0010n
Revises: 0009f
Create Date: 2026-12-03 12:00:00

Admins register them (`/admin/areas`, `flask areas add`); officers and agencies target them by code,
which intake resolves to the polygon and the counties it touches. A new table, nothing to fill.
"""
from alembic import op
import sqlalchemy as sa

revision = '0010n'
down_revision = '0009f'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'named_areas',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('code', sa.String(length=40), nullable=False),
        sa.Column('name_zh', sa.String(length=80), nullable=False),
        sa.Column('name_en', sa.String(length=120), nullable=False),
        sa.Column('name_bo', sa.String(length=200), nullable=True),
        sa.Column('geometry_geojson', sa.Text(), nullable=False),
        sa.Column('county_codes', sa.JSON(), nullable=False),
        sa.Column('source', sa.Text(), nullable=False),
        sa.Column('accuracy', sa.String(length=300), nullable=False),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('updated_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_named_areas_created_by_id_users')),
        sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_named_areas_updated_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_named_areas')),
        sa.UniqueConstraint('code', name=op.f('uq_named_areas_code')),
    )


def downgrade():
    op.drop_table('named_areas')
