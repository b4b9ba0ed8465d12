"""The declarative base every model derives from: plain SQLAlchemy, so the domain loads without Flask.

Flask-SQLAlchemy is given this base in extensions.py and shares its metadata, which Alembic
(Flask-Migrate) compares against the migrations. The naming convention gives every constraint a
stable name, so batch migrations on SQLite can find and change them.
"""
from __future__ import annotations

from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
