"""agency_senders: the CAP senders each agency may post as, unique across agencies; alerts unique per author

Revision ID: 0009a
Revises: 0009d
Create Date: 2026-11-25 09:00:00

An agency speaks only as itself: each registered sender belongs to one agency, and the intake refuses
a message whose <sender> is not the posting agency's. The table is filled from `agencies.cap_sender`,
which it replaces. Should two agencies share one (only possible when written to the database by hand:
the registry refused it), the older agency keeps it and the other gets a made-up sender, printed, for
an admin to set right with `flask agency senders`.

The (sender, identifier) key of alerts becomes (agency_id, sender, identifier): a pair an agency took
in another's name before this revision can no longer block the sender's owner.
"""
import logging
import secrets

from alembic import op
import sqlalchemy as sa

revision = '0009a'
down_revision = '0009d'
branch_labels = None
depends_on = None

log = logging.getLogger('alembic.runtime.migration')

agencies = sa.table('agencies', sa.column('id', sa.Integer), sa.column('kind', sa.String),
                    sa.column('cap_sender', sa.String))
agency_senders = sa.table('agency_senders', sa.column('agency_id', sa.Integer), sa.column('sender', sa.String),
                          sa.column('position', sa.Integer))


def _sqlite_foreign_keys(on: bool) -> None:
    """SQLite rebuilds a table to drop a column or a constraint, and cannot drop one other tables refer to
    while it enforces foreign keys; the switch works only outside a transaction (the work so far is committed)."""
    if op.get_bind().dialect.name == 'sqlite':
        with op.get_context().autocommit_block():
            op.execute(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")


def upgrade():
    _sqlite_foreign_keys(False)
    connection = op.get_bind()
    rows = connection.execute(sa.select(agencies.c.id, agencies.c.kind, agencies.c.cap_sender)
                              .order_by(agencies.c.id)).all()
    op.create_table(
        'agency_senders',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('agency_id', sa.Integer(), nullable=False),
        sa.Column('sender', sa.String(length=255), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_agency_senders_agency_id_agencies')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_agency_senders')),
        sa.UniqueConstraint('sender', name=op.f('uq_agency_senders_sender')),
    )
    with op.batch_alter_table('agency_senders', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agency_senders_agency_id'), ['agency_id'], unique=False)
    taken: set[str] = set()
    for agency_id, kind, sender in rows:
        if sender in taken:
            replacement = f"{kind}.{secrets.token_hex(4)}@agencies.ews.local"
            log.warning("agency %s: CAP sender %r is an older agency's; given %r", agency_id, sender, replacement)
            sender = replacement
        taken.add(sender)
        connection.execute(agency_senders.insert().values(agency_id=agency_id, sender=sender, position=0))
    with op.batch_alter_table('agencies', schema=None) as batch_op:
        batch_op.drop_column('cap_sender')
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.drop_constraint('uq_alerts_sender_identifier', type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_alerts_agency_id_sender_identifier'),
                                          ['agency_id', 'sender', 'identifier'])
    _sqlite_foreign_keys(True)


def downgrade():
    """Back to one sender per agency (its first) and one alert per (sender, identifier): fails while two
    authors hold the same pair."""
    _sqlite_foreign_keys(False)
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.drop_constraint('uq_alerts_agency_id_sender_identifier', type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_alerts_sender_identifier'), ['sender', 'identifier'])
    with op.batch_alter_table('agencies', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cap_sender', sa.String(length=255), nullable=True))
    first = (sa.select(agency_senders.c.sender).where(agency_senders.c.agency_id == agencies.c.id)
             .order_by(agency_senders.c.position).limit(1).scalar_subquery())
    op.get_bind().execute(agencies.update().values(cap_sender=first))
    with op.batch_alter_table('agencies', schema=None) as batch_op:
        batch_op.alter_column('cap_sender', existing_type=sa.String(length=255), nullable=False)
    with op.batch_alter_table('agency_senders', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_agency_senders_agency_id'))
    op.drop_table('agency_senders')
    _sqlite_foreign_keys(True)
