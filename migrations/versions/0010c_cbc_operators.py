"""cbc_operators: the mobile operators' Cell Broadcast Centres the cell broadcast channel sends to

Revision ID: 0010c
Revises: 0010a
Create Date: 2026-12-03 16:00:00

Admins register them (`/admin/cbc`, `flask endpoints add-cbc`): a primary and a failover URL, the bearer
token and callback secret (stored as given: the adapter sends one, the webhook checks the other), the
vertex limit, the exercise mark, and the last link test's result. A new table, nothing to fill.
"""
from alembic import op
import sqlalchemy as sa

revision = '0010c'
down_revision = '0010a'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'cbc_operators',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('code', sa.String(length=20), nullable=False),
        sa.Column('name', sa.String(length=120), nullable=False),
        sa.Column('url', sa.String(length=500), nullable=False),
        sa.Column('failover_url', sa.String(length=500), nullable=True),
        sa.Column('token', sa.Text(), nullable=False),
        sa.Column('callback_secret', sa.Text(), nullable=False),
        sa.Column('max_vertices', sa.Integer(), nullable=False),
        sa.Column('identifiers', sa.JSON(), nullable=False),
        sa.Column('exercise', sa.Boolean(), nullable=False),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('link_checked_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('link_primary_ok', sa.Boolean(), nullable=True),
        sa.Column('link_failover_ok', sa.Boolean(), nullable=True),
        sa.Column('link_detail', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_cbc_operators_created_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_cbc_operators')),
        sa.UniqueConstraint('code', name=op.f('uq_cbc_operators_code')),
    )


def downgrade():
    op.drop_table('cbc_operators')
