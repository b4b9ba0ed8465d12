"""translation desk: the translator role, translation entries and their versioned proposals

Revision ID: 0011a
Revises: 0010d
Create Date: 2026-12-03 18:20:00

Translators propose the Tibetan the public receives and a second translator approves or returns it
(issue 18). users.role's CHECK gains "translator"; two new tables, nothing to fill (the desk lists
its entries from templates_bo_zh/ and the reference data when first asked). Downgrading fails while
a user holds the translator role.
"""
from alembic import op
import sqlalchemy as sa

revision = '0011a'
down_revision = '0010d'
branch_labels = None
depends_on = None

OLD_ROLES = ('admin', 'duty_officer', 'auditor')
NEW_ROLES = (*OLD_ROLES, 'translator')


def _roles(roles):
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_users_role'), type_='check')
        batch_op.create_check_constraint(op.f('ck_users_role'), sa.column('role').in_(roles))


def upgrade():
    _roles(NEW_ROLES)
    op.create_table(
        'translation_entries',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('key', sa.String(length=200), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('zh', sa.Text(), nullable=False),
        sa.Column('en', sa.Text(), nullable=False),
        sa.Column('hazard_code', sa.String(length=40), nullable=True),
        sa.Column('channels', sa.JSON(), nullable=False),
        sa.Column('used_in', sa.Text(), nullable=False),
        sa.Column('bo', sa.Text(), nullable=True),
        sa.Column('bo_source', sa.Text(), nullable=False),
        sa.Column('status', sa.Enum('missing', 'proposed', 'approved', name='entrystatus', native_enum=False,
                                    create_constraint=True, length=20), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('approved_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('approved_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['approved_by_id'], ['users.id'],
                                name=op.f('fk_translation_entries_approved_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_translation_entries')),
        sa.UniqueConstraint('key', name=op.f('uq_translation_entries_key')),
    )
    with op.batch_alter_table('translation_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_translation_entries_kind'), ['kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_translation_entries_hazard_code'), ['hazard_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_translation_entries_status'), ['status'], unique=False)
    op.create_table(
        'translation_proposals',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('entry_id', sa.Integer(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('bo', sa.Text(), nullable=False),
        sa.Column('state', sa.Enum('proposed', 'approved', 'returned', 'superseded', name='proposalstate',
                                   native_enum=False, create_constraint=True, length=20), nullable=False),
        sa.Column('proposed_by_id', sa.Integer(), nullable=False),
        sa.Column('proposed_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('decided_by_id', sa.Integer(), nullable=True),
        sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('comment', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['entry_id'], ['translation_entries.id'],
                                name=op.f('fk_translation_proposals_entry_id_translation_entries')),
        sa.ForeignKeyConstraint(['proposed_by_id'], ['users.id'],
                                name=op.f('fk_translation_proposals_proposed_by_id_users')),
        sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'],
                                name=op.f('fk_translation_proposals_decided_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_translation_proposals')),
        sa.UniqueConstraint('entry_id', 'version', name=op.f('uq_translation_proposals_entry_id_version')),
    )
    with op.batch_alter_table('translation_proposals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_translation_proposals_entry_id'), ['entry_id'], unique=False)


def downgrade():
    op.drop_table('translation_proposals')
    op.drop_table('translation_entries')
    _roles(OLD_ROLES)
