"""audit_ledger_turn(): the audit ledger's turn and its head in one round trip

Revision ID: 0014i
Revises: 0013e
Create Date: 2026-12-04 12:00:00

A writer to the audit ledger takes its turn (a transaction-scoped advisory lock) and then reads the
head, the hash of the last entry, in two statements: the head must be read by a statement that
starts after the lock is held, or it could miss the entry of the transaction that held the turn
just before. A PL/pgSQL function does both in one round trip: a VOLATILE function's statements each
take a snapshot of their own, so its SELECT sees every entry committed before the lock was granted.
Each alert an agency posts writes an entry, and the turn is held to the commit: one round trip fewer
for every post, and a shorter turn (docs/BENCHMARKS.md, issue 17 item 4). PostgreSQL only: SQLite's
writer already holds the database's one write lock.
"""
from alembic import op

revision = '0014i'
down_revision = '0013e'
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("""
            CREATE FUNCTION audit_ledger_turn(lock_id bigint) RETURNS text
            LANGUAGE plpgsql VOLATILE AS $$
            BEGIN
                PERFORM pg_advisory_xact_lock(lock_id);
                RETURN (SELECT hash FROM audit_events ORDER BY id DESC LIMIT 1);
            END $$
        """)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS audit_ledger_turn(bigint)")
