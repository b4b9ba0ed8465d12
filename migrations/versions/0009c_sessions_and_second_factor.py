"""a session version per user (ending every session at once) and the TOTP second factor

Revision ID: 0009c
Revises: 0009a
Create Date: 2026-11-26 00:00:00

users.session_version is part of every session's user id: raising it ends every session of that
user. users.mfa_* hold the TOTP secret, when it was confirmed and the last time step accepted
(codes cannot be replayed); recovery_codes holds the one-time recovery codes as SHA-256 digests.
"""
from alembic import op
import sqlalchemy as sa

import warning_service.models.types

revision = '0009c'
down_revision = '0009a'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_version', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('mfa_secret', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('mfa_enrolled_at', warning_service.models.types.UTCDateTime(timezone=True),
                                      nullable=True))
        batch_op.add_column(sa.Column('mfa_last_step', sa.BigInteger(), nullable=True))
    op.create_table(
        'recovery_codes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('code_hash', sa.String(length=64), nullable=False),
        sa.Column('used_at', warning_service.models.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('recovery_codes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recovery_codes_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('recovery_codes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recovery_codes_user_id'))
    op.drop_table('recovery_codes')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('mfa_last_step')
        batch_op.drop_column('mfa_enrolled_at')
        batch_op.drop_column('mfa_secret')
        batch_op.drop_column('session_version')
