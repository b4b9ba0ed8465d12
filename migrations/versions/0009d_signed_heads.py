"""signed heads: the database's copy of the ledger heads the reconciler signs

Revision ID: 0009d
Revises: 0008
Create Date: 2026-11-26 10:00:00

The same signed documents are written outside the database (LEDGER_HEADS_DIR); `flask audit verify`
compares the two copies and checks the ledger's tail against the latest.
"""
from alembic import op
import sqlalchemy as sa

revision = '0009d'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'signed_heads',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('entry_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('signed_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('document', sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_signed_heads')),
    )


def downgrade():
    op.drop_table('signed_heads')
