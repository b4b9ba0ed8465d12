"""The models and the Alembic migrations describe the same schema, on both databases."""
from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, select, text

from warning_service.extensions import db
from warning_service.models import County, Prefecture


def test_migrations_match_models(app):
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, db.metadata)
    assert differences == [], f"models and migrations disagree: {differences}"


def test_reference_regions_loaded(app):
    assert db.session.scalar(select(func.count()).select_from(Prefecture)) == 2
    assert db.session.scalar(select(func.count()).select_from(County)) == 31
    kangding = db.session.get(County, "513301")
    assert kangding.name_zh == "康定市" and kangding.prefecture_code == "513300"
    assert kangding.name_bo


def test_only_deliveries_with_a_gateway_id_are_in_its_index(app):
    """ix_deliveries_gateway_id is partial (migration 0013e): the null gateway's rows, and every row before
    its gateway answers, write no entry there."""
    if db.engine.dialect.name == "postgresql":
        definition = db.session.scalar(text("SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_deliveries_gateway_id'"))
    else:
        definition = db.session.scalar(text("SELECT sql FROM sqlite_master WHERE name = 'ix_deliveries_gateway_id'"))
    assert "WHERE" in definition and "gateway_id IS NOT NULL" in definition


@pytest.mark.backend("postgresql")
@pytest.mark.parametrize("lookup", [
    "SELECT id FROM deliveries WHERE gateway_id = 'SM1'",                     # one receipt (Twilio's callback)
    "SELECT gateway_id FROM deliveries WHERE gateway_id IN ('SM1', 'SM2')",  # a batch of them (an SMPP bind)
    "SELECT early_receipts.gateway_id FROM early_receipts JOIN deliveries"
    " ON deliveries.gateway_id = early_receipts.gateway_id WHERE early_receipts.gateway_id IN ('SM1', 'SM2')",
])
def test_receipts_find_their_delivery_through_the_partial_gateway_id_index(app, lookup):
    """A partial index serves a query only where PostgreSQL proves its predicate from the query: these are
    the receipts' look-ups (channels/receipts.py), with scans of the whole table ruled out."""
    db.session.execute(text("SET LOCAL enable_seqscan = off"))
    plan = "\n".join(db.session.scalars(text(f"EXPLAIN {lookup}")))
    assert "ix_deliveries_gateway_id" in plan, plan
