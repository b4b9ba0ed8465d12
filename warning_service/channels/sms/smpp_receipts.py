"""SMPP delivery receipts into the database, through the code Twilio's status callbacks go through.

The SMPP adapter reads receipts on its binds (deliver_sm with esm_class 0x04) and hands them,
in batches, to `DatabaseReceipts.apply` on its receipts thread; only once that has committed
does it answer the SMSC's deliver_sm. So a receipt is never answered before it is in the
database, and one the database did not take is delivered again by the SMSC.

channels/receipts.py is the single place where a receipt moves a delivery (forward only, early
receipts kept), for Twilio's callbacks and these alike.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from ...models import DeliveryStatus
from ..receipts import apply_receipts

# SMPP 3.4 message states (stat: in the receipt's text, message_state 0x0427 as a number) -> the
# delivery's status, as web/webhooks.py maps Twilio's MessageStatus. UNKNOWN moves nothing.
STATES: dict[str, DeliveryStatus] = {
    "ENROUTE": DeliveryStatus.SENT,
    "ACCEPTD": DeliveryStatus.SENT,
    "DELIVRD": DeliveryStatus.DELIVERED,
    "UNDELIV": DeliveryStatus.UNDELIVERED,
    "EXPIRED": DeliveryStatus.UNDELIVERED,
    "DELETED": DeliveryStatus.UNDELIVERED,
    "REJECTD": DeliveryStatus.FAILED,
}
MESSAGE_STATE_NAMES = {1: "ENROUTE", 2: "DELIVRD", 3: "EXPIRED", 4: "DELETED", 5: "UNDELIV", 6: "ACCEPTD",
                       7: "UNKNOWN", 8: "REJECTD"}


@dataclass(frozen=True)
class Receipt:
    """One delivery receipt: the SMSC's message id, its state word and its error code ("000": none)."""

    message_id: str
    state: str
    error: str | None = None

    @property
    def status(self) -> DeliveryStatus | None:
        return STATES.get(self.state)

    @property
    def code(self) -> str | None:
        """What the delivery keeps as gateway_code: nothing for a delivered text, else the state and error."""
        if self.state == "DELIVRD":
            return None
        return f"{self.state} err:{self.error}" if self.error and self.error.strip("0") else self.state


class DatabaseReceipts:
    """Applies receipts with a connection of its own (the receipts thread is not the job's)."""

    def __init__(self, settings: Mapping[str, Any]):
        options = dict(settings.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
        self.engine = create_engine(str(settings["SQLALCHEMY_DATABASE_URI"]), pool_size=1, **options)

    def apply(self, receipts: Sequence[Receipt]) -> int:
        """Apply and commit; returns how many moved a delivery. Raises when the database fails."""
        known = [(r.message_id, status, r.code) for r in receipts if (status := r.status) is not None]
        if not known:
            return 0
        with Session(self.engine) as session:
            return apply_receipts(session, known)

    def close(self) -> None:
        self.engine.dispose()
