"""recipients: statistics on channels::text, so the fan-out's plan chunks walk the primary key

Revision ID: 0012e
Revises: 0011n
Create Date: 2026-12-03 22:55:00

Each channel selects its recipients with `channels::text LIKE '%"sms"%'`. Without statistics on that
expression PostgreSQL guesses it keeps a few hundred rows of 1.78 M, so the plan's chunk boundary
(`ORDER BY id OFFSET n LIMIT 1`) read every remaining recipient and sorted them, once per chunk; with
them it reads the next chunk's rows in id order and stops (docs/BENCHMARKS.md, issue 17 item 3).
PostgreSQL only: SQLite has no such statistics.
"""
from alembic import op

revision = '0012e'
down_revision = '0011n'
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE STATISTICS st_recipients_channels_text ON ((channels)::text) FROM recipients")
        op.execute("ANALYZE recipients")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP STATISTICS IF EXISTS st_recipients_channels_text")
