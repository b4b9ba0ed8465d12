"""The translators' desk (/translations): the queue in Chinese with its filters, four eyes through the pages,
the roles on every step, and the alert page that says which Tibetan still carries Chinese. The Tibetan
typed here is a fixture of "the translator" (tests/support/text.py), never made up by the program."""
from __future__ import annotations

import re

from sqlalchemy import select

from tests.support.console import fresh_request, make_user, post_form, shown, sign_in, waiting_alert
from tests.support.text import CHINESE, TIBETAN
from warning_service.extensions import db
from warning_service.models import AuditEvent, EntryStatus, Level, Role
from warning_service.services.translations import entry_by_key

ACTION = "action:flash_flood:red"


def sign_out(client, page: str = "/translations/") -> None:
    """`page`: one the signed-in user may open, for its CSRF token."""
    post_form(client, "/logout", page)
    fresh_request()


def missing_count(client, alert_id: int) -> int:
    page = client.get(f"/alerts/{alert_id}").get_data(as_text=True)
    sms = page.split('<tr data-channel="sms">')[1].split("</tr>")[0]
    return int(re.search(r'class="missing-terms" data-count="(\d+)"', sms).group(1))


def test_a_translator_lands_on_the_queue_in_chinese_and_bad_filters_are_400(app, client):
    make_user("tr-a", Role.TRANSLATOR)
    response = sign_in(client, "tr-a")
    assert response.status_code == 302 and response.headers["Location"].endswith("/translations/")
    page = client.get("/translations/?hazard=flash_flood&channel=sms").get_data(as_text=True)
    assert "翻译审校台" in page and "缺译" in page and "防御指引" in page
    assert f'data-key="{ACTION}"' in page and 'data-key="hazard:earthquake"' not in page
    assert page.index("缺译") < page.index("北京时间")
    for query in ("status=bogus", "hazard=volcano", "channel=fax", "kind=poem"):
        response = client.get(f"/translations/?{query}")
        assert response.status_code == 400 and "未知的筛选条件" in response.get_data(as_text=True)


def test_four_eyes_through_the_pages_and_the_alert_page_uses_the_approval(app, client, people):
    make_user("tr-a", Role.TRANSLATOR), make_user("tr-b", Role.TRANSLATOR)
    alert_id = waiting_alert(level=Level.RED, hazard="flash_flood")
    entry_id = entry_by_key(db.session, ACTION).id
    db.session.commit()
    sign_in(client, "officer")
    before = missing_count(client, alert_id)
    page = client.get(f"/alerts/{alert_id}").get_data(as_text=True)
    assert 'id="publish-untranslated"' in page and "仍为中文的段落" in page and "立即向高处转移" in page
    sign_out(client, f"/alerts/{alert_id}")

    sign_in(client, "tr-a")
    refused = post_form(client, f"/translations/{entry_id}/propose", f"/translations/{entry_id}", bo=CHINESE)
    assert refused.status_code == 422 and "只能使用藏文字符" in refused.get_data(as_text=True)
    proposed = post_form(client, f"/translations/{entry_id}/propose", f"/translations/{entry_id}", bo=TIBETAN)
    body = proposed.get_data(as_text=True)
    assert proposed.status_code == 200 and "已提交第 1 版" in body and 'id="desk-fits"' in body
    # The proposer is offered no decision on their own version, only told who decides.
    assert 'id="approve"' not in body and 'id="return"' not in body and "须由另一名译员审定" in body
    proposal = entry_by_key(db.session, ACTION).proposals[0]
    own = post_form(client, f"/translations/{entry_id}/approve", f"/translations/{entry_id}", proposal=proposal.id)
    assert own.status_code == 403 and "须由另一名译员审定" in own.get_data(as_text=True)
    sign_out(client)

    sign_in(client, "auditor")
    assert client.get(f"/translations/{entry_id}").status_code == 200
    assert post_form(client, f"/translations/{entry_id}/approve", f"/translations/{entry_id}",
                     proposal=proposal.id).status_code == 403
    sign_out(client)

    sign_in(client, "tr-b")
    assert 'id="approve"' in client.get(f"/translations/{entry_id}").get_data(as_text=True)
    assert client.post(f"/translations/{entry_id}/approve", data={"proposal": proposal.id}).status_code == 400  # CSRF
    approved = post_form(client, f"/translations/{entry_id}/approve", f"/translations/{entry_id}", proposal=proposal.id)
    assert approved.status_code == 303
    page = client.get(f"/translations/{entry_id}").get_data(as_text=True)
    db.session.expire_all()
    entry = entry_by_key(db.session, ACTION)
    assert entry.status == EntryStatus.APPROVED and TIBETAN in page and "已批准" in page
    assert shown(entry.approved_at)[0] in page and "北京时间" in page
    sign_out(client)

    sign_in(client, "officer")
    page = client.get(f"/alerts/{alert_id}").get_data(as_text=True)
    assert TIBETAN in page.split('<tr data-channel="sms">')[1].split("</tr>")[0]
    assert missing_count(client, alert_id) == before - 1
    actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("translation.%"))
                                 .order_by(AuditEvent.id)).all()
    assert actions == ["translation.propose", "translation.approve"]
