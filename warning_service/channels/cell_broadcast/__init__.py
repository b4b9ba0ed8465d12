"""Cell broadcast: one CAP 1.2 message per operator's Cell Broadcast Centre (CBC) reaches every handset in
the cells over the warned area, in seconds, with no list and no per-person rate (issue 16; the wire
contract is docs/CHANNELS.md). Its targets are the operators' CBCs admins register
(services/cbc_operators.py); the message each gets is its own (outbound.py, message.py); cap.py is the
HTTP adapter with its failover URL, link.py the link test.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...models import CbcOperator
from ...rendering.budgets import CellBroadcastBudget
from ..spec import N_, ChannelSpec
from .link import check_targets
from .outbound import NAME, addresses, messages, select_targets

SETTINGS: Mapping[str, Any] = {
    # null, log (development) or cap; the operators' CBCs live in the database.
    "CELL_BROADCAST_GATEWAY": "log",
    # A CBC that has not answered within this is tried at its failover URL at once (seconds matter).
    "CELL_BROADCAST_TIMEOUT_SECONDS": 3.0,
    # How often every CBC URL gets a link test (seconds; 0: only `flask channels check`).
    "CELL_BROADCAST_LINK_CHECK_SECONDS": 300,
    # How often the cells repeat a message, by level (whole seconds; an exercise repeats as the warning it plays).
    "CBS_REPETITION_SECONDS_EEW": 10,
    "CBS_REPETITION_SECONDS_RED": 60,
    "CBS_REPETITION_SECONDS_ORANGE": 120,
    "CBS_REPETITION_SECONDS_YELLOW": 300,
    "CBS_REPETITION_SECONDS_BLUE": 600,
    "CBS_REPETITION_SECONDS_UNLEVELLED": 600,
    # How long a sent broadcast waits for its CBC's status callbacks before it counts as settled (and is
    # sealed into the audit ledger): a CBC reports while the message is on the air.
    "SEAL_CELL_BROADCAST_AFTER_SECONDS": 2 * 24 * 3600.0,
}


CHANNEL = ChannelSpec(
    name=NAME,
    label=N_("Cell broadcast"),
    reach_label=N_("Cell broadcast centres"),
    reach_count=N_("%(count)d cell broadcast centres"),
    priority=5,  # first of all: one message per operator puts the warning on every phone in the area
    gateway_setting="CELL_BROADCAST_GATEWAY",
    adapters={"cap": "warning_service.channels.cell_broadcast.cap:CbcAdapter"},
    settings=SETTINGS,
    target=CbcOperator,
    select_targets=select_targets,
    addresses=addresses,
    budget=lambda settings: CellBroadcastBudget(),
    template="cell_broadcast",
    receipts_setting="SEAL_CELL_BROADCAST_AFTER_SECONDS",
    check_targets=check_targets,
    per_county=False,
    sent_by_plan=True,  # the earthquake path: POST -> every CBC accepted within 300 ms (issue 16)
    messages=messages,
)
