"""Use cases: what a page, an API call or a command asks for, combining the domain packages
(intake, rendering, geography, recipients, dispatch, audit) so that none of them needs another's
caller. Plain functions on a SQLAlchemy Session, no Flask; web and CLI call them, nothing below does."""
