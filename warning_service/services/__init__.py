"""Use cases that combine the domain packages; plain functions on a SQLAlchemy Session, no Flask."""
