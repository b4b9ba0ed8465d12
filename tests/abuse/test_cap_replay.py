"""An old CAP message replayed (the same sender and identifier, byte for byte or not) is idempotent:
no second alert, no second fan-out."""
from __future__ import annotations

from sqlalchemy import func, select

from tests.support.api import LUDING_SEAT, post_xml
from tests.support.cap_builder import cap_xml, info_xml
from tests.support.dispatch import work
from warning_service.extensions import db, queues
from warning_service.models import Alert, Delivery


def counts() -> tuple[int, int]:
    return (db.session.scalar(select(func.count()).select_from(Alert)),
            db.session.scalar(select(func.count()).select_from(Delivery)))


def test_a_replayed_auto_published_warning_is_not_sent_again(app, client, seismic, demo_targets):
    body = cap_xml("CENC-EEW-REPLAY-1", info_xml(category="Geo", event="地震预警", severity="Extreme",
                                                  circle=f"{LUDING_SEAT} 40", area_desc="泸定县"),
                   sender="seismic.demo@ews.example")
    first = post_xml(client, seismic[1], body)
    assert first.status_code == 201
    work(app)
    after_first = counts()
    assert after_first[1] > 0, "the warning reached someone"
    for replay in (body, body.replace(b"<senderName>", b"<senderName>replayed ")):
        again = post_xml(client, seismic[1], replay)
        assert again.status_code == 200 and again.get_json()["id"] == first.get_json()["id"]
        assert sum(queue.count for queue in queues()) == 0, "no second fan-out queued"
    work(app)
    assert counts() == after_first
