"""The SQLAlchemy models, one module per concept."""
from .agency import ALL_HAZARDS, Agency, AgencyKind, ApiKey
from .alert import (
    LIVE_STATES,
    Alert,
    AlertState,
    CapStatus,
    InvalidTransition,
    Level,
    MsgType,
    alert_counties,
)
from .audit import AuditEvent, DeliverySeal
from .delivery import SETTLED, Channel, Delivery, DeliveryAttempt, DeliveryStatus, EarlyReceipt
from .region import County, Prefecture
from .target import LANGUAGE_CHOICES, BeidouTerminal, BroadcastEndpoint, Language, Recipient
from .types import utcnow
from .user import RecoveryCode, Role, User

__all__ = [
    "ALL_HAZARDS", "Agency", "AgencyKind", "ApiKey", "LIVE_STATES", "Alert", "AlertState",
    "CapStatus", "InvalidTransition", "Level", "MsgType", "alert_counties", "AuditEvent", "DeliverySeal",
    "SETTLED", "Channel", "Delivery", "DeliveryAttempt", "DeliveryStatus", "EarlyReceipt", "County", "Prefecture", "LANGUAGE_CHOICES",
    "BeidouTerminal", "BroadcastEndpoint", "Language", "Recipient", "utcnow", "RecoveryCode", "Role", "User",
]
