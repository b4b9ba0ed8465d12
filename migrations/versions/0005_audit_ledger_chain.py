"""audit ledger: each entry chained by SHA-256 to the one before

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24 22:35:00

Existing entries are chained in id order, as if they had been written so.
"""
from types import SimpleNamespace

from alembic import op
import sqlalchemy as sa

import warning_service.models.types
from warning_service.audit.ledger import GENESIS, entry_hash

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

FIELDS = ("id", "at", "actor_type", "actor_id", "action", "subject_type", "subject_id", "detail")


def upgrade():
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('prev_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('hash', sa.String(length=64), nullable=True))
    events = sa.table(
        'audit_events', sa.column('id', sa.Integer), sa.column('at', warning_service.models.types.UTCDateTime()),
        sa.column('actor_type', sa.String), sa.column('actor_id', sa.Integer), sa.column('action', sa.String),
        sa.column('subject_type', sa.String), sa.column('subject_id', sa.Integer), sa.column('detail', sa.JSON),
        sa.column('prev_hash', sa.String), sa.column('hash', sa.String),
    )
    connection = op.get_bind()
    previous = GENESIS
    for row in connection.execute(sa.select(*[events.c[name] for name in FIELDS]).order_by(events.c.id)).all():
        entry = SimpleNamespace(**dict(zip(FIELDS, row)))
        current = entry_hash(previous, entry)
        connection.execute(events.update().where(events.c.id == entry.id).values(prev_hash=previous, hash=current))
        previous = current
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.alter_column('prev_hash', existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column('hash', existing_type=sa.String(length=64), nullable=False)
        batch_op.create_unique_constraint(batch_op.f('uq_audit_events_hash'), ['hash'])


def downgrade():
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_audit_events_hash'), type_='unique')
        batch_op.drop_column('hash')
        batch_op.drop_column('prev_hash')
