"""SMS: a text message to each recipient's phone, in the languages they read (twilio.py: Twilio's REST API;
smpp.py: an operator's SMS centre over SMPP 3.4, smpp_receipts.py its delivery receipts).

Its targets are the recipients (people) whose channels include "sms"; an SMS that fails for good, or
still lags SMS_FAILOVER_AFTER_SECONDS after it was planned, goes to the recipient's BeiDou card too.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Select, Text, cast, select
from sqlalchemy.orm import Session

from ...models import Alert, Recipient
from ...models.sql import ids_in
from ...rendering.budgets import CHINA_MAX_SEGMENTS, Budget, SmsBudget
from ..spec import N_, Address, ChannelSpec, Failover

SETTINGS: Mapping[str, Any] = {
    # null, log (development), twilio or smpp.
    "SMS_GATEWAY": "log",
    # Twilio (SMS_GATEWAY=twilio). TWILIO_API_BASE_URL is for tests and local peers only. TWILIO_MAX_MPS
    # segments a second shared by every worker (the account's rate); TWILIO_MAX_IN_FLIGHT creates awaiting
    # Twilio's answer per worker process, each on a kept connection (workers x this within the account's
    # concurrency).
    "TWILIO_ACCOUNT_SID": "",
    "TWILIO_AUTH_TOKEN": "",
    "TWILIO_FROM": "",
    "TWILIO_MESSAGING_SERVICE_SID": "",
    "TWILIO_API_BASE_URL": "",
    "TWILIO_MAX_MPS": 1.0,
    "TWILIO_MAX_IN_FLIGHT": 20,
    "TWILIO_VALIDITY_PERIOD": 3600,
    # An operator's SMS centre over SMPP 3.4 (SMS_GATEWAY=smpp): SMPP_BINDS transceiver binds per worker
    # process, each with at most SMPP_WINDOW submit_sm awaiting their answer; SMPP_MAX_TPS submit_sm a
    # second shared by every worker (the rate the operator grants the account).
    "SMPP_HOST": "",
    "SMPP_PORT": 2775,
    "SMPP_SYSTEM_ID": "",
    "SMPP_PASSWORD": "",
    "SMPP_SYSTEM_TYPE": "",
    "SMPP_SOURCE_ADDR": "",
    "SMPP_BINDS": 1,
    "SMPP_WINDOW": 10,
    "SMPP_MAX_TPS": 10.0,
    # Segments per message: Twilio's advice for messages to China.
    "SMS_MAX_SEGMENTS": CHINA_MAX_SEGMENTS,
    # SMS still unsent this long after it was planned also goes to the recipient's BeiDou card
    # (a county whose SMS lags); 0 turns it off.
    "SMS_FAILOVER_AFTER_SECONDS": 300.0,
    # How long a sent SMS waits for its status callback before it counts as settled (and is sealed
    # into the audit ledger): Twilio's callbacks come within TWILIO_VALIDITY_PERIOD.
    "SEAL_SMS_AFTER_SECONDS": 2 * 24 * 3600.0,
}


def select_targets(session: Session, alert: Alert, counties: Sequence[str], is_exercise: bool) -> Select:
    """Active recipients reached by SMS; for an exercise, those who agreed to exercises (they get real
    warnings too)."""
    query = select(Recipient.id.label("target_id"), Recipient.county_code).where(
        Recipient.county_code.in_(counties),
        Recipient.active.is_(True),
        cast(Recipient.channels, Text).like('%"sms"%'),
    )
    return query.where(Recipient.exercise.is_(True)) if is_exercise else query


def addresses(session: Session, target_ids: Sequence[int]) -> dict[int, Address]:
    rows = session.connection().execute(select(Recipient.id, Recipient.phone, Recipient.languages)
                                        .where(ids_in(session, Recipient.id, target_ids))).all()
    return {rid: Address(phone, tuple(languages.split(","))) for rid, phone, languages in rows}


def budget(settings: Mapping[str, Any]) -> Budget:
    return SmsBudget(int(settings.get("SMS_MAX_SEGMENTS", CHINA_MAX_SEGMENTS)))


CHANNEL = ChannelSpec(
    name="sms",
    label=N_("Text message"),
    reach_label=N_("SMS recipients"),
    reach_count=N_("%(count)d SMS recipients"),
    priority=30,  # after broadcast and BeiDou: the slowest to fan out, and the one failover backs up
    gateway_setting="SMS_GATEWAY",
    adapters={"twilio": "warning_service.channels.sms.twilio:TwilioSmsAdapter",
              "smpp": "warning_service.channels.sms.smpp:SmppAdapter"},
    settings=SETTINGS,
    target=Recipient,
    select_targets=select_targets,
    addresses=addresses,
    budget=budget,
    template="sms",
    phone=Recipient.phone,
    township=Recipient.township_code,
    receipts_setting="SEAL_SMS_AFTER_SECONDS",
    failover=Failover(to="beidou", via=Recipient.beidou_terminal_id, lag_setting="SMS_FAILOVER_AFTER_SECONDS"),
)
