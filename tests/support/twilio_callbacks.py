"""Twilio's status callbacks in tests: a sent SMS delivery, the receipt Twilio posts for it, signed."""
from __future__ import annotations

from sqlalchemy import select
from twilio.request_validator import RequestValidator

from tests.support.dispatch import new_alert
from warning_service.channels.twilio_sms import STATUS_CALLBACK_PATH
from warning_service.extensions import db
from warning_service.models import Channel, Delivery, DeliveryAttempt, DeliveryStatus

TOKEN = "webhook-test-auth-token"
PUBLIC_BASE_URL = "https://ews.example.org"  # the service behind its proxy (the twilio_app fixture)
PUBLIC_URL = PUBLIC_BASE_URL + STATUS_CALLBACK_PATH
SID = "SM" + "a1" * 16


def sent_delivery(sid: str, target_id: int = 1, status: DeliveryStatus = DeliveryStatus.SENT) -> int:
    alert = new_alert(("513301",))
    delivery = Delivery(alert_id=alert.id, channel=Channel.SMS, target_id=target_id, county_code="513301",
                        status=status, attempts=1, gateway_id=sid)
    db.session.add(delivery)
    db.session.commit()
    return delivery.id


def receipt(sid: str, status: str, **extra: str) -> dict[str, str]:
    """The parameters Twilio posts for a message status change."""
    return {"MessageSid": sid, "SmsSid": sid, "MessageStatus": status, "SmsStatus": status, "AccountSid": "AC" + "0" * 32,
            "From": "+15005550006", "To": "+8619912345678", "ApiVersion": "2010-04-01", **extra}


def post_receipt(client, params: dict[str, str], token: str = TOKEN, url: str = PUBLIC_URL, signed: dict | None = None):
    """Post `params` signed as Twilio would have signed `signed` (default: the same params) for `url`."""
    signature = RequestValidator(token).compute_signature(url, signed if signed is not None else params)
    return client.post(STATUS_CALLBACK_PATH, data=params, headers={"X-Twilio-Signature": signature})


def state(delivery_id: int) -> tuple[Delivery, list[DeliveryAttempt]]:
    db.session.expire_all()
    attempts = db.session.scalars(select(DeliveryAttempt).where(DeliveryAttempt.delivery_id == delivery_id)
                                  .order_by(DeliveryAttempt.id)).all()
    return db.session.get(Delivery, delivery_id), list(attempts)
