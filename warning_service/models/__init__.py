"""The SQLAlchemy models, one module per concept."""
from .agency import ALL_HAZARDS, Agency, AgencyKind, AgencySender, ApiKey
from .alert import (
    LIVE_STATES,
    REJECT_REASON_MAX_CHARS,
    Alert,
    AlertState,
    CapStatus,
    InvalidTransition,
    Level,
    MsgType,
    alert_counties,
    referenced_alerts,
    without_bulky_columns,
)
from .audit import AuditEvent, DeliverySeal, SignedHead
from .cbc_operator import CbcBroadcast, CbcOperator, CbcState
from .delivery import SETTLED, Delivery, DeliveryAttempt, DeliveryStatus, EarlyReceipt
from .named_area import NamedArea
from .region import County, Prefecture
from .target import LANGUAGE_CHOICES, BeidouTerminal, BroadcastEndpoint, Language, Recipient
from .translation import EntryStatus, ProposalState, TranslationEntry, TranslationProposal
from .types import utcnow
from .user import RecoveryCode, Role, User

__all__ = [
    "ALL_HAZARDS", "Agency", "AgencyKind", "AgencySender", "ApiKey", "LIVE_STATES", "REJECT_REASON_MAX_CHARS", "Alert", "AlertState",
    "CapStatus", "InvalidTransition", "Level", "MsgType", "alert_counties", "referenced_alerts", "without_bulky_columns",
    "AuditEvent", "DeliverySeal", "SignedHead", "CbcBroadcast", "CbcOperator", "CbcState",
    "SETTLED", "Delivery", "DeliveryAttempt", "DeliveryStatus", "EarlyReceipt", "NamedArea", "County", "Prefecture", "LANGUAGE_CHOICES",
    "BeidouTerminal", "BroadcastEndpoint", "Language", "Recipient", "EntryStatus", "ProposalState",
    "TranslationEntry", "TranslationProposal", "utcnow", "RecoveryCode", "Role", "User",
]
