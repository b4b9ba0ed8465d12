"""The models and the Alembic migrations describe the same schema, on both databases."""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, select

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
