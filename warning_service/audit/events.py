"""Recording human, agency and system actions."""
from __future__ import annotations

from sqlalchemy.orm import Session

from ..models import Agency, AuditEvent, User, utcnow
from .ledger import chain

Actor = User | Agency | None


def record(session: Session, actor: Actor, action: str, subject=None, **detail) -> AuditEvent:
    """Append one audit event; `subject` is any model with an `id` (its table names the type)."""
    if isinstance(actor, User):
        actor_type = "user"
    elif isinstance(actor, Agency):
        actor_type = "agency"
    else:
        actor_type = "system"
    event = AuditEvent(
        actor_type=actor_type,
        actor_id=getattr(actor, "id", None),
        action=action,
        subject_type=subject.__tablename__ if subject is not None else None,
        subject_id=subject.id if subject is not None else None,
        detail=detail,
        at=utcnow(),
    )
    chain(session, event)
    session.add(event)
    return event
