"""Published alerts with deliveries to report on, and how a report's PDF must read."""
from __future__ import annotations

from sqlalchemy import select, update

from tests.support.console import post_form, sign_in, waiting_alert, work
from tests.support.pdf import DPI, dark_pixels, embedded_fonts, run, tibetan_boxes
from warning_service.audit.report import mask_phone
from warning_service.extensions import db
from warning_service.models import Delivery, DeliveryStatus, Recipient, utcnow

KANGDING, LUDING = 220, 110  # the crowded alert's deliveries per county: 330 in all, more than a page of 200


def published_alert(app, client) -> int:
    """A yellow rainstorm for Kangding and Luding, published and worked off; one SMS then failed."""
    sign_in(client, "officer")
    alert_id = waiting_alert()
    post_form(client, f"/alerts/{alert_id}/publish", f"/alerts/{alert_id}", confirm_status="Actual")
    work(app)
    failed = db.session.scalar(select(Delivery).where(Delivery.alert_id == alert_id, Delivery.channel == "sms")
                               .order_by(Delivery.id).limit(1))
    db.session.execute(update(Delivery).where(Delivery.id == failed.id).values(
        status=DeliveryStatus.FAILED, gateway_code="21211", gateway_text="not a valid phone number"))
    db.session.execute(update(Delivery).where(Delivery.alert_id == alert_id, Delivery.id != failed.id,
                                              Delivery.channel == "sms")
                       .values(status=DeliveryStatus.DELIVERED, delivered_at=utcnow()))
    db.session.commit()
    post_form(client, "/logout", "/")
    return alert_id


def failed_sms(alert_id: int) -> tuple[Delivery, str]:
    """The alert's SMS that failed (published_alert makes one) and its recipient's number."""
    delivery = db.session.scalar(select(Delivery).where(Delivery.alert_id == alert_id, Delivery.channel == "sms",
                                                        Delivery.status == DeliveryStatus.FAILED))
    return delivery, db.session.get(Recipient, delivery.target_id).phone


def check_pdf_report(pdf, phone: str, workdir) -> None:
    """The report's PDF: Tibetan drawn with an embedded Tibetan font (no empty boxes), ink where it
    stands on the rendered page, Chinese too, and the failed recipient's number masked."""
    assert any("Tibetan" in name for name in embedded_fonts(pdf)) and any("WenQuanYi" in n for n in embedded_fonts(pdf))
    text = run("pdftotext", str(pdf), "-")
    assert "康定" in text and "泸定" in text and mask_phone(phone) in text and phone[3:] not in text
    boxes = [(page, box) for page, box in tibetan_boxes(pdf) if box[2] - box[0] > 2]
    assert boxes, "no Tibetan text in the PDF"
    for page, box in boxes[:6]:
        area = (box[2] - box[0]) * (box[3] - box[1]) * (DPI / 72) ** 2
        assert dark_pixels(pdf, page, box, workdir) > 0.03 * area, f"blank where the Tibetan is, page {page} {box}"


def add_delivery(alert_id: int, channel: str, target: int, sent=None, delivered=None) -> None:
    status = DeliveryStatus.DELIVERED if delivered else DeliveryStatus.SENT if sent else DeliveryStatus.PENDING
    db.session.add(Delivery(alert_id=alert_id, channel=channel, target_id=target, county_code="513301",
                            status=status, sent_at=sent, delivered_at=delivered))
